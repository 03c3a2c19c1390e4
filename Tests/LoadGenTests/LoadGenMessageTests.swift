import NIOCore
import XCTest

@testable import LoadGen

/// The load generator's pure parts: broadcast messages, URL and address checks.
final class LoadGenMessageTests: XCTestCase {
    func testFanoutMessageRoundTrip() throws {
        let buffer = FanoutMessage.make(seq: 0xABCDEF, sentAt: 123_456_789_012, measured: true, size: 64)
        XCTAssertEqual(buffer.readableBytes, 64)
        XCTAssertEqual(buffer.getInteger(at: 0, as: UInt8.self), UInt8(ascii: "B"))
        let parsed = try XCTUnwrap(FanoutMessage.parse(buffer))
        XCTAssertEqual(parsed.seq, 0xABCDEF)
        XCTAssertEqual(parsed.sentAt, 123_456_789_012)
        XCTAssertTrue(parsed.measured)

        let warmup = try XCTUnwrap(FanoutMessage.parse(FanoutMessage.make(seq: 1, sentAt: 2, measured: false, size: 34)))
        XCTAssertFalse(warmup.measured)
    }

    func testFanoutMessageRejectsOtherText() {
        XCTAssertNil(FanoutMessage.parse(Payload.text(first: "r", size: 64)))
        XCTAssertNil(FanoutMessage.parse(ByteBuffer(string: "Bshort")))
        XCTAssertNil(FanoutMessage.parse(ByteBuffer(string: "Bm" + String(repeating: "z", count: 40))))
    }

    func testPayloadSizeAndFirstByte() {
        let payload = Payload.text(first: "r", size: 64)
        XCTAssertEqual(payload.readableBytes, 64)
        XCTAssertEqual(payload.getInteger(at: 0, as: UInt8.self), Payload.rttByte)
    }

    func testTargetParsing() throws {
        let target = try Target(url: "ws://127.0.0.1:8282/chat")
        XCTAssertEqual(target.host, "127.0.0.1")
        XCTAssertEqual(target.port, 8282)
        XCTAssertEqual(target.path, "/chat")
        XCTAssertEqual(try Target(url: "ws://localhost:9/").host, "127.0.0.1")
        XCTAssertEqual(try Target(url: "ws://127.0.0.5:9").path, "/")
    }

    func testTargetStaysOnLoopback() {
        XCTAssertThrowsError(try Target(url: "ws://10.0.0.1:8282/"))
        XCTAssertThrowsError(try Target(url: "ws://example.com:80/"))
        XCTAssertThrowsError(try Target(url: "wss://127.0.0.1:8282/"))
        XCTAssertThrowsError(try Target(url: "ws://127.0.0.1/"))
        XCTAssertTrue(Target.isLoopback("127.0.0.2"))
        XCTAssertFalse(Target.isLoopback("128.0.0.1"))
        XCTAssertFalse(Target.isLoopback("127.0.0.256"))
    }

    func testJSONSummaryKeepsKeyOrderAndEscapes() {
        let json = JSONValue.fields([("mode", .string("rtt \"x\"")), ("ops", .int(3)), ("rate", .double(1.5))])
        XCTAssertEqual(json.encoded, #"{"mode":"rtt \"x\"","ops":3,"rate":1.500}"#)
    }
}
