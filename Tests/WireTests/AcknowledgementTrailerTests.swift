import NIOCore
import NIOEmbedded
import Wire
import XCTest

/// An acknowledgement riding on the last frame of a flush (``GatewayFrame/Flags/acknowledgementTrailer``):
/// the encoder appends it, the decoder hands on the frame as it was meant and then the acknowledgement.
final class AcknowledgementTrailerTests: XCTestCase {
    private typealias Support = WireTestSupport

    func testTheTrailerRidesOnTheLastFrameOfTheFlushOnly() throws {
        let encoder = GatewayFrameEncoder()
        let channel = EmbeddedChannel(handler: encoder)
        let first = Support.sampleFrame(command: .sendToOne)
        let last = Support.sampleFrame(command: .sendToAll)
        encoder.enqueue(first)
        encoder.enqueue(last)
        XCTAssertTrue(encoder.appendAcknowledgementToLastFrame(handledEvents: 0x0102_0304_0506_0708))
        XCTAssertFalse(encoder.appendAcknowledgementToLastFrame(handledEvents: 9), "one trailer per frame")
        channel.flush()
        var batch = try XCTUnwrap(try channel.readOutbound(as: ByteBuffer.self))
        XCTAssertEqual(batch.readableBytes, first.encodedLength + last.encodedLength + 8)

        // On the wire: the last frame's length counts the 8 bytes, its flag is set, its ext length is unchanged.
        let start = first.encodedLength
        XCTAssertEqual(batch.getInteger(at: start, as: UInt32.self), UInt32(last.encodedLength + 8))
        XCTAssertEqual(batch.getInteger(at: start + 21, as: UInt8.self), last.flags.rawValue | 0x20)
        XCTAssertEqual(batch.getInteger(at: start + 24, as: UInt32.self), UInt32(last.extData.readableBytes))
        XCTAssertEqual(Support.bytes(batch).suffix(8), [1, 2, 3, 4, 5, 6, 7, 8])

        let decoding = try Support.decodingChannel()
        try decoding.writeInbound(batch)
        XCTAssertEqual(try decoding.readInbound(as: GatewayFrame.self), first)
        XCTAssertEqual(try decoding.readInbound(as: GatewayFrame.self), last, "handed on without the flag and the trailer")
        XCTAssertEqual(try decoding.readInbound(as: GatewayFrame.self), .acknowledgement(handledEvents: 0x0102_0304_0506_0708))
        XCTAssertNil(try decoding.readInbound(as: GatewayFrame.self))
        XCTAssertTrue(try decoding.finish().isClean)

        // The raw decode keeps the trailer in the body, for the split to find.
        XCTAssertEqual(try GatewayFrameDecoder.decodeFrame(from: &batch, maximumFrameLength: 1 << 20), first)
        let raw = try XCTUnwrap(try GatewayFrameDecoder.decodeFrame(from: &batch, maximumFrameLength: 1 << 20))
        XCTAssertEqual(raw.body.readableBytes, last.body.readableBytes + 8)
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testNothingToRideOn() throws {
        let encoder = GatewayFrameEncoder()
        let channel = EmbeddedChannel(handler: encoder)
        XCTAssertFalse(encoder.appendAcknowledgementToLastFrame(handledEvents: 1), "no frame queued")
        encoder.enqueue(Support.sampleFrame())
        channel.flush()
        _ = try channel.readOutbound(as: ByteBuffer.self)
        XCTAssertFalse(encoder.appendAcknowledgementToLastFrame(handledEvents: 1), "the last frame has left with its flush")
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self))
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testAFrameAtTheMaximumTakesNoTrailer() throws {
        let maximum = 64
        let encoder = GatewayFrameEncoder(maximumFrameLength: maximum)
        let channel = EmbeddedChannel(handler: encoder)
        let full = GatewayFrame(command: .sendToOne, body: Support.buffer([UInt8](repeating: 0, count: maximum - 28 - 7)))
        encoder.enqueue(full)
        XCTAssertFalse(encoder.appendAcknowledgementToLastFrame(handledEvents: 1))
        channel.flush()
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes, full.encodedLength, "left as it was")
        let roomy = GatewayFrame(command: .sendToOne, body: Support.buffer([UInt8](repeating: 0, count: maximum - 28 - 8)))
        encoder.enqueue(roomy)
        XCTAssertTrue(encoder.appendAcknowledgementToLastFrame(handledEvents: 1))
        channel.flush()
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes, maximum)
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testAFlaggedFrameTooShortForItsTrailerIsRefused() throws {
        for bodyLength in [0, 7] {
            var frame = GatewayFrame(command: .sendToOne, body: Support.buffer([UInt8](repeating: 1, count: bodyLength)))
            frame.flags = .acknowledgementTrailer
            let channel = try Support.decodingChannel()
            XCTAssertThrowsError(try channel.writeInbound(try Support.encode(frame))) { error in
                XCTAssertEqual(error as? GatewayFrameError, .malformedBody(.sendToOne))
            }
            XCTAssertNil(try channel.readInbound(as: GatewayFrame.self), "\(bodyLength) bytes: nothing handed on")
            _ = try? channel.finish()
        }
    }

    func testAReceiverGetsTheFrameThenTheAcknowledgement() throws {
        var frame = Support.sampleFrame(command: .sendToOne)
        frame.flags.insert(.acknowledgementTrailer)
        frame.body.writeInteger(UInt64(42))
        let receiver = Receiver()
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(GatewayFrameDecoder(receiver: receiver)))
        try channel.writeInbound(try Support.encode(frame))
        XCTAssertEqual(receiver.frames, [Support.sampleFrame(command: .sendToOne), .acknowledgement(handledEvents: 42)])
        XCTAssertTrue(try channel.finish().isClean)
    }
}

private final class Receiver: GatewayFrameReceiver {
    var frames: [GatewayFrame] = []

    func receive(_ frame: GatewayFrame) -> Bool {
        frames.append(frame)
        return true
    }
}
