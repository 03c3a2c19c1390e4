import NIOCore
import NIOWebSocket
import WebSocketFrames
import XCTest

/// Server frames are final, unmasked, and carry their length in its shortest form; a message the
/// reader read becomes one without a copy.
final class ServerFrameWriterTests: XCTestCase {
    func testHeaderLengthsAndBytes() {
        for (size, header) in [(0, 2), (5, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let payload = ByteBuffer(repeating: UInt8(ascii: "a"), count: size)
            var frame = ByteBuffer()
            frame.writeWebSocketFrame(opcode: .binary, payload: payload)
            XCTAssertEqual(ByteBuffer.webSocketFrameHeaderLength(payloadLength: size), header, "payload \(size)")
            XCTAssertEqual(frame.readableBytes, header + size, "payload \(size)")
            XCTAssertEqual(frame.getInteger(at: 0, as: UInt8.self), 0x82)
            switch header {
            case 2: XCTAssertEqual(frame.getInteger(at: 1, as: UInt8.self), UInt8(size))
            case 4: XCTAssertEqual(frame.getInteger(at: 2, as: UInt16.self), UInt16(size))
            default: XCTAssertEqual(frame.getInteger(at: 2, as: UInt64.self), UInt64(size))
            }
            XCTAssertEqual(frame.getSlice(at: header, length: size), payload)
        }
    }

    func testAMessageReadBecomesAFrameInPlaceWithTheSameBytesAsAWrittenOne() {
        for size in [0, 5, 125, 126, 300] {
            let text = String(repeating: "m", count: size)
            var reader = WebSocketFrameReader(maxMessageSize: 1024)
            var input = ByteBuffer(bytes: clientFrame(opcode: 0x1, Array(text.utf8)))
            guard case .message(var message, isBinary: false) = reader.next(from: &input, buffers: ByteBufferPool(allocator: ByteBufferAllocator())) else {
                return XCTFail("no message of \(size) bytes")
            }
            var written = ByteBuffer()
            written.writeWebSocketFrame(opcode: .text, payload: ByteBuffer(string: text))
            let storage = message.withUnsafeReadableBytes { $0.baseAddress! + $0.count }
            message.prependWebSocketFrameHeader(opcode: .text, allocator: ByteBufferAllocator())
            XCTAssertEqual(message, written, "payload \(size)")
            XCTAssertEqual(message.withUnsafeReadableBytes { $0.baseAddress! + $0.count }, storage, "payload \(size) was copied")
        }
    }

    func testABufferWithoutRoomInFrontIsCopiedBehindTheHeader() {
        var payload = ByteBuffer(string: "no room")
        var written = ByteBuffer()
        written.writeWebSocketFrame(opcode: .binary, payload: payload)
        payload.prependWebSocketFrameHeader(opcode: .binary, allocator: ByteBufferAllocator())
        XCTAssertEqual(payload, written)
    }
}
