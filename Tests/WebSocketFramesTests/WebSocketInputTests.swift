import NIOCore
import NIOWebSocket
import WebSocketFrames
import XCTest

/// The events of a client's bytes are the same however the bytes are split into reads, and a frame
/// that has not fully arrived waits for the rest.
final class WebSocketInputTests: XCTestCase {
    private enum Seen: Equatable {
        case message(String, isBinary: Bool)
        case ping(String)
        case close(UInt16?)
        case failure(UInt16)
    }

    /// A text message, a binary message in two fragments with a ping between them, a message long
    /// enough for the 16-bit length, and a close.
    private let buffers = ByteBufferPool(allocator: ByteBufferAllocator())
    private let stream: [UInt8] =
        clientFrame(opcode: 0x1, Array("hello".utf8))
        + clientFrame(opcode: 0x2, Array("bin".utf8), isFinal: false)
        + clientFrame(opcode: 0x9, Array("are you there".utf8))
        + clientFrame(opcode: 0x0, Array("ary".utf8))
        + clientFrame(opcode: 0x1, Array(repeating: UInt8(ascii: "l"), count: 300))
        + clientFrame(opcode: 0x8, [0x03, 0xE8])

    func testEveryTwoWaySplitGivesTheSameEventsAsOneRead() {
        let whole = events(of: [stream])
        XCTAssertEqual(whole, [
            .message("hello", isBinary: false), .ping("are you there"), .message("binary", isBinary: true),
            .message(String(repeating: "l", count: 300), isBinary: false), .close(1000),
        ])
        for split in 1..<stream.count {
            XCTAssertEqual(events(of: [Array(stream[..<split]), Array(stream[split...])]), whole, "split at \(split)")
        }
    }

    func testByteByByteGivesTheSameEventsAsOneRead() {
        XCTAssertEqual(events(of: stream.map { [$0] }), events(of: [stream]))
    }

    func testAMessageStillHeldKeepsItsBytesWhileTheNextOnesAreRead() {
        var input = WebSocketInput(maxMessageSize: 1024)
        input.receive(ByteBuffer(bytes: clientFrame(opcode: 0x1, Array("first".utf8)) + clientFrame(opcode: 0x1, Array("second".utf8))))
        guard case .message(let first, _) = input.next(buffers: buffers) else { return XCTFail("no first message") }
        buffers.recycle(first)  // given back while still held, as an event waiting for its acknowledgement is
        guard case .message(let second, _) = input.next(buffers: buffers) else { return XCTFail("no second message") }
        XCTAssertEqual(String(buffer: first), "first")
        XCTAssertEqual(String(buffer: second), "second")
    }

    func testNothingIsReadAfterAProtocolFailure() {
        let unmasked: [UInt8] = [0x81, 0x01, UInt8(ascii: "x")]
        var input = WebSocketInput(maxMessageSize: 1024)
        XCTAssertEqual(read(unmasked + clientFrame(opcode: 0x1, Array("later".utf8)), into: &input), [.failure(1002)])
        XCTAssertTrue(input.isFinished)
        XCTAssertEqual(read(clientFrame(opcode: 0x1, Array("later".utf8)), into: &input), [])
    }

    private func events(of reads: [[UInt8]]) -> [Seen] {
        var input = WebSocketInput(maxMessageSize: 1024)
        return reads.flatMap { read($0, into: &input) }
    }

    private func read(_ bytes: [UInt8], into input: inout WebSocketInput) -> [Seen] {
        input.receive(ByteBuffer(bytes: bytes))
        var seen: [Seen] = []
        while let event = input.next(buffers: buffers) {
            switch event {
            case .message(let payload, let isBinary):
                seen.append(.message(String(buffer: payload), isBinary: isBinary))
                buffers.recycle(payload)
            case .ping(let payload): seen.append(.ping(String(buffer: payload)))
            case .close(let code): seen.append(.close(code))
            case .failure(let code, _): seen.append(.failure(UInt16(webSocketErrorCode: code)))
            }
        }
        return seen
    }
}
