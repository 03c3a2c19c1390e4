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

    /// The longest header a server frame has (a 64-bit length).
    public static let largestWebSocketFrameHeaderLength = 10

    /// Writes the header of a final, unmasked server frame (RFC 6455, section 5.2) with the length
    /// in its shortest form.
    public mutating func writeWebSocketFrameHeader(opcode: WebSocketOpcode, payloadLength length: Int) {
        let written = setWebSocketFrameHeader(opcode: opcode, payloadLength: length, at: writerIndex)
        moveWriterIndex(forwardBy: written)
    }

    /// Makes the readable bytes a whole final server frame carrying them: writes its header in the
    /// room in front of them (``WebSocketFrameReader`` leaves that room in front of each message), or,
    /// when there is not enough, copies them behind a header in a new buffer.
    public mutating func prependWebSocketFrameHeader(opcode: WebSocketOpcode, allocator: ByteBufferAllocator) {
        let length = readableBytes
        let headerLength = Self.webSocketFrameHeaderLength(payloadLength: length)
        guard readerIndex >= headerLength else {
            var frame = allocator.buffer(capacity: headerLength + length)
            frame.writeWebSocketFrame(opcode: opcode, payload: self)
            self = frame
            return
        }
        let start = readerIndex - headerLength
        setWebSocketFrameHeader(opcode: opcode, payloadLength: length, at: start)
        moveReaderIndex(to: start)
    }

    /// Sets a server frame's header at `index`; how many bytes it took.
    @discardableResult
    private mutating func setWebSocketFrameHeader(opcode: WebSocketOpcode, payloadLength length: Int, at index: Int) -> Int {
        let first = 0x80 | UInt8(webSocketOpcode: opcode)
        switch length {
        case ..<126:
            return setMultipleIntegers(first, UInt8(length), at: index)
        case ...0xFFFF:
            return setMultipleIntegers(first, UInt8(126), UInt16(length), at: index)
        default:
            return setMultipleIntegers(first, UInt8(127), UInt64(length), at: index)
        }
    }

    /// Writes a whole final server frame: its header, then `payload`.
    public mutating func writeWebSocketFrame(opcode: WebSocketOpcode, payload: ByteBuffer) {
        writeWebSocketFrameHeader(opcode: opcode, payloadLength: payload.readableBytes)
        writeImmutableBuffer(payload)
    }
}
