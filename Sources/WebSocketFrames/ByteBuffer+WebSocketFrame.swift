import NIOCore
import NIOWebSocket

extension ByteBuffer {
    /// The length of a server frame's header (unmasked) for a payload of `length` bytes.
    public static func webSocketFrameHeaderLength(payloadLength length: Int) -> Int {
        switch length {
        case ..<126: 2
        case ...0xFFFF: 4
        default: 10
        }
    }

    /// Writes the header of a final, unmasked server frame (RFC 6455, section 5.2) with the length
    /// in its shortest form.
    public mutating func writeWebSocketFrameHeader(opcode: WebSocketOpcode, payloadLength length: Int) {
        let first = 0x80 | UInt8(webSocketOpcode: opcode)
        switch length {
        case ..<126:
            writeMultipleIntegers(first, UInt8(length))
        case ...0xFFFF:
            writeMultipleIntegers(first, UInt8(126), UInt16(length))
        default:
            writeMultipleIntegers(first, UInt8(127), UInt64(length))
        }
    }

    /// Writes a whole final server frame: its header, then `payload`.
    public mutating func writeWebSocketFrame(opcode: WebSocketOpcode, payload: ByteBuffer) {
        writeWebSocketFrameHeader(opcode: opcode, payloadLength: payload.readableBytes)
        writeImmutableBuffer(payload)
    }
}
