import NIOCore
import NIOWebSocket

/// Encodes unmasked server-to-client WebSocket frames (RFC 6455 §5.2) straight into one `ByteBuffer`.
///
/// The ceiling server encodes a broadcast once and writes the same buffer to every client, so no
/// per-client frame encoding or header buffer is needed (NIO's `WebSocketFrameEncoder` would write a
/// separate header buffer per client for a shared payload).
enum ServerFrame {
    /// Largest header: 2 bytes + 8 bytes of extended length (servers never mask).
    static let maxHeaderBytes = 10

    /// A complete frame with `opcode`, FIN set, carrying `payload` (already unmasked).
    static func encode(opcode: WebSocketOpcode, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: maxHeaderBytes + payload.readableBytes)
        writeHeader(opcode: opcode, length: payload.readableBytes, into: &out)
        out.writeImmutableBuffer(payload)
        return out
    }

    /// A complete frame built from a client's (masked) frame, unmasking while copying the payload once.
    static func encode(echoing frame: WebSocketFrame, opcode: WebSocketOpcode, allocator: ByteBufferAllocator) -> ByteBuffer {
        let data = frame.data
        var out = allocator.buffer(capacity: maxHeaderBytes + data.readableBytes)
        writeHeader(opcode: opcode, length: data.readableBytes, into: &out)
        let payloadStart = out.writerIndex
        out.writeImmutableBuffer(data)
        if let key = frame.maskKey {
            out.moveReaderIndex(to: payloadStart)
            out.webSocketUnmask(key)
            out.moveReaderIndex(to: 0)
        }
        return out
    }

    private static func writeHeader(opcode: WebSocketOpcode, length: Int, into out: inout ByteBuffer) {
        out.writeInteger(UInt8(0x80) | UInt8(webSocketOpcode: opcode))
        switch length {
        case 0...125:
            out.writeInteger(UInt8(length))
        case 126...0xFFFF:
            out.writeInteger(UInt8(126))
            out.writeInteger(UInt16(length))
        default:
            out.writeInteger(UInt8(127))
            out.writeInteger(UInt64(length))
        }
    }
}
