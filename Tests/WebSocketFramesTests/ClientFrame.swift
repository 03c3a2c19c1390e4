/// A masked client frame (RFC 6455 5.2) with a 7- or 16-bit length.
func clientFrame(opcode: UInt8, _ payload: [UInt8], isFinal: Bool = true) -> [UInt8] {
    let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
    var bytes: [UInt8] = [(isFinal ? 0x80 : 0) | opcode]
    if payload.count < 126 {
        bytes.append(0x80 | UInt8(payload.count))
    } else {
        bytes += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
    }
    return bytes + key + payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
}
