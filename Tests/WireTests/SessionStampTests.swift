import NIOCore
import NIOEmbedded
import Wire
import XCTest

final class SessionStampTests: XCTestCase {
    private typealias Support = WireTestSupport

    func testNoSessionSendsNoExtData() {
        XCTAssertEqual(SessionStamp.none.extData.readableBytes, 0)
        XCTAssertEqual(SessionStamp(version: 0, json: ByteBuffer()).extData.readableBytes, 0)
        XCTAssertEqual(SessionStamp.none.version, 0)
        XCTAssertEqual(SessionStamp.none.json.readableBytes, 0)
    }

    func testLayoutIsBigEndianVersionThenJSONByteExact() {
        let stamp = SessionStamp(version: 0x0102_0304_0506_0708, json: Support.buffer(#"{"a":1}"#))
        let expected: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08] + Array(#"{"a":1}"#.utf8)
        XCTAssertEqual(Support.bytes(stamp.extData), expected)
    }

    func testSmallVersionIsPaddedToEightBytes() {
        let stamp = SessionStamp(version: 1, json: Support.buffer("{}"))
        XCTAssertEqual(Support.bytes(stamp.extData), [0, 0, 0, 0, 0, 0, 0, 1, UInt8(ascii: "{"), UInt8(ascii: "}")])
    }

    func testAVersionWithoutJSONIsEightBytes() {
        XCTAssertEqual(Support.bytes(SessionStamp(version: 7, json: ByteBuffer()).extData), [0, 0, 0, 0, 0, 0, 0, 7])
        XCTAssertEqual(Support.bytes(SessionStamp(version: .max, json: ByteBuffer()).extData), [UInt8](repeating: 0xFF, count: 8))
    }

    func testJSONAtVersionZeroIsStillSent() {
        // Only "no version and no JSON" is elided; a session is never dropped for its version.
        let stamp = SessionStamp(version: 0, json: Support.buffer("{}"))
        XCTAssertEqual(Support.bytes(stamp.extData), [0, 0, 0, 0, 0, 0, 0, 0, UInt8(ascii: "{"), UInt8(ascii: "}")])
    }

    func testOnlyTheReadableBytesOfTheJSONAreWritten() {
        var json = Support.buffer("xx{}")
        json.moveReaderIndex(forwardBy: 2)
        let stamp = SessionStamp(version: 2, json: json)
        XCTAssertEqual(Support.bytes(stamp.extData), [0, 0, 0, 0, 0, 0, 0, 2, UInt8(ascii: "{"), UInt8(ascii: "}")])
    }

    func testEmptyExtDataParsesAsNone() throws {
        XCTAssertEqual(try XCTUnwrap(SessionStamp(extData: ByteBuffer())), .none)
    }

    func testParsesVersionAndJSON() throws {
        var bytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0x01, 0x00]
        bytes += Array(#"{"uid":"u1"}"#.utf8)
        let stamp = try XCTUnwrap(SessionStamp(extData: Support.buffer(bytes)))
        XCTAssertEqual(stamp.version, 256)
        XCTAssertEqual(String(buffer: stamp.json), #"{"uid":"u1"}"#)
    }

    func testExactlyEightBytesIsAVersionWithoutJSON() throws {
        let stamp = try XCTUnwrap(SessionStamp(extData: Support.buffer([0, 0, 0, 0, 0, 0, 0, 9])))
        XCTAssertEqual(stamp.version, 9)
        XCTAssertEqual(stamp.json.readableBytes, 0)
    }

    func testParsingStartsAtTheReaderIndex() throws {
        var buffer = Support.buffer([0xAA, 0xBB, 0, 0, 0, 0, 0, 0, 0, 3] + Array("{}".utf8))
        buffer.moveReaderIndex(forwardBy: 2)
        let stamp = try XCTUnwrap(SessionStamp(extData: buffer))
        XCTAssertEqual(stamp, SessionStamp(version: 3, json: Support.buffer("{}")))
    }

    func testOneToSevenBytesAreMalformed() {
        for count in 1...7 {
            XCTAssertNil(SessionStamp(extData: Support.buffer([UInt8](repeating: 0x01, count: count))), "\(count) bytes")
        }
    }

    func testRoundTrip() throws {
        let samples = [
            SessionStamp.none,
            SessionStamp(version: 1, json: Support.buffer("{}")),
            SessionStamp(version: 42, json: Support.buffer(#"{"uid":"u1","groups":["a"],"n":{"x":1.5}}"#)),
            SessionStamp(version: 5, json: ByteBuffer()),
            SessionStamp(version: 0, json: Support.buffer("{}")),
            SessionStamp(version: .max, json: Support.buffer(#"{"k":"ключ \u{1F511}"}"#)),
        ]
        for stamp in samples {
            XCTAssertEqual(SessionStamp(extData: stamp.extData), stamp, "version \(stamp.version)")
        }
    }

    func testRoundTripAsTheExtDataOfAFrame() throws {
        let stamp = SessionStamp(version: 12, json: Support.buffer(#"{"uid":"u1"}"#))
        let frame = GatewayFrame(command: .onMessage, connectionID: 3, extData: stamp.extData, body: Support.buffer("hi"))
        let channel = try Support.decodingChannel()
        try channel.writeInbound(try Support.encode(frame))
        let decoded = try XCTUnwrap(try channel.readInbound(as: GatewayFrame.self))
        XCTAssertEqual(SessionStamp(extData: decoded.extData), stamp)
        XCTAssertEqual(String(buffer: decoded.body), "hi")
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testTheExtDataIsWrittenOnceAndSharedByEveryEvent() {
        // A gateway stamps every event of a client with the same stamp: its ext data must not be
        // written (or allocated) again for each.
        let stamp = SessionStamp(version: 4, json: Support.buffer(#"{"role":"agent"}"#))
        let first = stamp.extData.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let second = stamp.extData.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        XCTAssertEqual(first, second)
        XCTAssertEqual(stamp.version, 4)
        XCTAssertEqual(String(buffer: stamp.json), #"{"role":"agent"}"#)
    }
}

