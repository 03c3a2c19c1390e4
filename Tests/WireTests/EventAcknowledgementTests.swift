import NIOCore
import NIOEmbedded
import Wire
import XCTest

final class EventAcknowledgementTests: XCTestCase {
    private typealias Support = WireTestSupport

    func testBodyIsEightBytesBigEndian() {
        let frame = GatewayFrame.acknowledgement(handledEvents: 0x0102_0304_0506_0708)
        XCTAssertEqual(frame.command, .acknowledge)
        XCTAssertEqual(Support.bytes(frame.body), [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08])
        XCTAssertEqual(Support.bytes(GatewayFrame.acknowledgement(handledEvents: 1).body), [0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(Support.bytes(GatewayFrame.acknowledgement(handledEvents: 0).body), [UInt8](repeating: 0, count: 8))
    }

    func testEveryOtherFieldIsEmpty() {
        let frame = GatewayFrame.acknowledgement(handledEvents: 5)
        XCTAssertEqual(frame, GatewayFrame(command: .acknowledge, body: Support.buffer([0, 0, 0, 0, 0, 0, 0, 5])))
        XCTAssertEqual(frame.extData.readableBytes, 0)
        XCTAssertEqual(frame.encodedLength, GatewayFrame.headerLength + 8)
    }

    func testCountReadsBack() {
        for count: UInt64 in [0, 1, 255, 256, UInt64(UInt32.max) + 1, .max - 1, .max] {
            XCTAssertEqual(GatewayFrame.acknowledgement(handledEvents: count).acknowledgedEventCount, count)
        }
    }

    func testCountOfAHandBuiltAcknowledgement() {
        let frame = GatewayFrame(command: .acknowledge, body: Support.buffer([0, 0, 0, 0, 0, 0, 0x30, 0x39]))
        XCTAssertEqual(frame.acknowledgedEventCount, 12345)
    }

    func testNoCountForAnyOtherCommand() {
        for command in GatewayCommand.allCases where command != .acknowledge {
            var frame = GatewayFrame.acknowledgement(handledEvents: 9)
            frame.command = command
            XCTAssertNil(frame.acknowledgedEventCount, "\(command)")
        }
    }

    func testNoCountForABodyOfTheWrongSize() {
        for size in [0, 1, 4, 7, 9, 15, 17] {
            let frame = GatewayFrame(command: .acknowledge, body: Support.buffer([UInt8](repeating: 1, count: size)))
            XCTAssertNil(frame.acknowledgedEventCount, "\(size) bytes")
        }
    }

    func testCountIsReadFromTheReaderIndex() {
        var body = Support.buffer([0xEE, 0xEE, 0, 0, 0, 0, 0, 0, 0, 4])
        body.moveReaderIndex(forwardBy: 2)
        XCTAssertEqual(GatewayFrame(command: .acknowledge, body: body).acknowledgedEventCount, 4)
        // Ten bytes with none consumed is not an acknowledgement.
        XCTAssertNil(GatewayFrame(command: .acknowledge, body: Support.buffer([0xEE, 0xEE, 0, 0, 0, 0, 0, 0, 0, 4])).acknowledgedEventCount)
    }

    func testReadingTheCountConsumesNothing() {
        let frame = GatewayFrame.acknowledgement(handledEvents: 77)
        XCTAssertEqual(frame.acknowledgedEventCount, 77)
        XCTAssertEqual(frame.acknowledgedEventCount, 77)
        XCTAssertEqual(frame.body.readableBytes, 8)
    }

    func testWireBytesAreByteExact() throws {
        let bytes = Support.bytes(try Support.encode(.acknowledgement(handledEvents: 0x0A0B)))
        let expected = Support.header(length: 36, command: 211) + [0, 0, 0, 0, 0, 0, 0x0A, 0x0B]
        XCTAssertEqual(bytes, expected)
    }

    func testPositionsHandledBeyondTheCountFollowIt() {
        let frame = GatewayFrame.acknowledgement(handledEvents: 3, handledBeyond: [5, 0x0102])
        XCTAssertEqual(Support.bytes(frame.body), [0, 0, 0, 0, 0, 0, 0, 3] + [0, 0, 0, 0, 0, 0, 0, 5] + [0, 0, 0, 0, 0, 0, 1, 2])
        XCTAssertEqual(frame.acknowledgedEventCount, 3)
        XCTAssertEqual(frame.acknowledgedEventsBeyondCount, [5, 0x0102])
        XCTAssertEqual(GatewayFrame.acknowledgement(handledEvents: 3).acknowledgedEventsBeyondCount, [])
    }

    func testNoPositionsForAMalformedAcknowledgement() {
        XCTAssertEqual(GatewayFrame(command: .acknowledge, body: Support.buffer([UInt8](repeating: 1, count: 20))).acknowledgedEventsBeyondCount, [])
        var frame = GatewayFrame.acknowledgement(handledEvents: 1, handledBeyond: [4])
        frame.command = .ping
        XCTAssertEqual(frame.acknowledgedEventsBeyondCount, [])
    }

    func testRoundTripThroughTheEncoderAndDecoder() throws {
        for count: UInt64 in [0, 1, 1_000_000, .max] {
            let frame = GatewayFrame.acknowledgement(handledEvents: count)
            let channel = try Support.decodingChannel()
            try channel.writeInbound(try Support.encode(frame))
            let decoded = try XCTUnwrap(try channel.readInbound(as: GatewayFrame.self))
            XCTAssertEqual(decoded, frame)
            XCTAssertEqual(decoded.acknowledgedEventCount, count)
            XCTAssertTrue(try channel.finish().isClean)
        }
    }

    func testABodyWrittenIntoAReusedBufferHoldsOnlyTheNewAcknowledgement() {
        var body = ByteBuffer()
        GatewayFrame.writeAcknowledgementBody(handledEvents: 9, handledBeyond: [11, 12], into: &body)
        let earlier = GatewayFrame(command: .acknowledge, body: body)
        GatewayFrame.writeAcknowledgementBody(handledEvents: 10, handledBeyond: [], into: &body)
        let later = GatewayFrame(command: .acknowledge, body: body)
        XCTAssertEqual(later, .acknowledgement(handledEvents: 10))
        XCTAssertEqual(later.acknowledgedEventsBeyondCount, [])
        XCTAssertEqual(earlier, .acknowledgement(handledEvents: 9, handledBeyond: [11, 12]), "a frame still holding the buffer keeps its bytes")
    }
}
