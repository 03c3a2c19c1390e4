import NIOCore

/// The masking key of a client frame (RFC 6455, section 5.3), kept as its four bytes repeated
/// over a machine word, so that a payload is unmasked a word at a time.
struct WebSocketMask {
    /// The key bytes in wire order, twice, as a word in host order.
    private let word: UInt64

    /// The key at `index` of `buffer`, which must hold its four bytes.
    init?(at index: Int, in buffer: ByteBuffer) {
        guard let key = buffer.getInteger(at: index, endianness: .host, as: UInt32.self) else { return nil }
        word = UInt64(key) | UInt64(key) << 32
    }

    /// Writes `input` unmasked to `output`, which must be at least as long.
    func unmask(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        let count = input.count
        var index = 0
        while index + 8 <= count {
            output.storeBytes(of: input.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ word, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        withUnsafeBytes(of: word) { key in
            while index < count {
                output[index] = input[index] ^ key[index & 3]
                index += 1
            }
        }
    }
}

extension ByteBuffer {
    /// Appends the readable bytes of `payload` unmasked with `mask`, in one pass.
    mutating func writeUnmasked(_ payload: ByteBuffer, mask: WebSocketMask) {
        let count = payload.readableBytes
        payload.withUnsafeReadableBytes { input in
            _ = writeWithUnsafeMutableBytes(minimumWritableBytes: count) { output in
                mask.unmask(input, into: output)
                return count
            }
        }
    }
}
