import NIOCore
import NIOWebSocket
import XCTest

@testable import EchoCeiling

/// echo-ceiling's own frame encoding: header lengths and unmasking of echoed client frames.
final class ServerFrameTests: XCTestCase {
    func testHeaderLengths() {
        for (size, header) in [(5, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let payload = ByteBuffer(repeating: UInt8(ascii: "a"), count: size)
            let frame = ServerFrame.encode(opcode: .text, payload: payload, allocator: ByteBufferAllocator())
            XCTAssertEqual(frame.readableBytes, header + size, "payload \(size)")
            XCTAssertEqual(frame.getInteger(at: 0, as: UInt8.self), 0x81)
        }
    }

    func testEchoUnmasksClientPayload() {
        let key = WebSocketMaskingKey([1, 2, 3, 4])!
        var masked = ByteBuffer(string: "hello, ceiling")
        masked.webSocketMask(key)
        let client = WebSocketFrame(fin: true, opcode: .text, maskKey: key, data: masked)
        let echoed = ServerFrame.encode(echoing: client, opcode: .text, allocator: ByteBufferAllocator())
        XCTAssertEqual(echoed.getInteger(at: 1, as: UInt8.self), 14)  // unmasked, length 14
        XCTAssertEqual(echoed.getString(at: 2, length: 14), "hello, ceiling")
    }
}
