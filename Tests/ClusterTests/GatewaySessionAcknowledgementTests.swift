import Cluster
import NIOCore
import NIOEmbedded
import Wire
import XCTest

/// How a worker's link acknowledges the events it handled: on the last reply of the flush to a
/// gateway that offers acknowledgement trailers, in an acknowledgement frame of its own otherwise
/// (an older gateway, no reply to ride on, or positions handled beyond the count).
final class GatewaySessionAcknowledgementTests: XCTestCase {
    private let reply = GatewayFrame(command: .sendToOne, connectionID: 7, body: ByteBuffer(string: "pong"))

    func testTheAcknowledgementRidesOnTheLastReplyToAGatewayThatReadsTrailers() throws {
        let (channel, session) = try linkedSession(offering: true)
        let position = session.eventReceived()
        try session.send(reply)
        session.eventHandled(position)
        channel.embeddedEventLoop.run()
        var written = try XCTUnwrap(try channel.readOutbound(as: ByteBuffer.self))
        let raw = try XCTUnwrap(try GatewayFrameDecoder.decodeFrame(from: &written, maximumFrameLength: 1 << 20))
        XCTAssertEqual(written.readableBytes, 0, "one frame on the wire")
        XCTAssertTrue(raw.flags.contains(.acknowledgementTrailer))
        let (frame, acknowledgement) = try raw.splittingAcknowledgementTrailer()
        XCTAssertEqual(frame, reply)
        XCTAssertEqual(acknowledgement?.acknowledgedEventCount, 1)
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testAGatewayThatDoesNotOfferTrailersGetsAnAcknowledgementFrame() throws {
        let (channel, session) = try linkedSession(offering: nil)
        let position = session.eventReceived()
        try session.send(reply)
        session.eventHandled(position)
        channel.embeddedEventLoop.run()
        XCTAssertEqual(try frames(from: channel), [reply, .acknowledgement(handledEvents: 1)])
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testAnEventWithoutAReplyIsAcknowledgedByAFrame() throws {
        let (channel, session) = try linkedSession(offering: true)
        session.eventHandled(session.eventReceived())
        channel.embeddedEventLoop.run()
        XCTAssertEqual(try frames(from: channel), [.acknowledgement(handledEvents: 1)])
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testPositionsHandledBeyondTheCountTakeAFrameOfTheirOwn() throws {
        let (channel, session) = try linkedSession(offering: true)
        _ = session.eventReceived()
        let second = session.eventReceived()
        try session.send(reply)
        session.eventHandled(second)
        channel.embeddedEventLoop.run()
        XCTAssertEqual(try frames(from: channel), [reply, .acknowledgement(handledEvents: 0, handledBeyond: [1])])
        XCTAssertTrue(try channel.finish().isClean)
    }

    /// A session on an embedded channel whose gateway answered the handshake offering trailers or not.
    private func linkedSession(offering trailers: Bool?) throws -> (EmbeddedChannel, GatewaySession) {
        let encoder = GatewayFrameEncoder()
        let channel = EmbeddedChannel(handler: encoder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2900)).wait()
        let session = GatewaySession(
            address: GatewayAddress(ip: 0x7F00_0001, port: 2900),
            channel: channel,
            maxFrameSize: GatewayFrameDecoder.defaultMaximumFrameLength,
            frameEncoder: encoder
        )
        session.gatewayAccepted(HandshakeResult(accepted: true, proof: "cA==", acknowledgementTrailers: trailers))
        return (channel, session)
    }

    /// Every frame written, as a gateway's decoder hands them on.
    private func frames(from channel: EmbeddedChannel) throws -> [GatewayFrame] {
        var frames: [GatewayFrame] = []
        while var written = try channel.readOutbound(as: ByteBuffer.self) {
            while let raw = try GatewayFrameDecoder.decodeFrame(from: &written, maximumFrameLength: 1 << 20) {
                let (frame, acknowledgement) = try raw.splittingAcknowledgementTrailer()
                frames.append(frame)
                if let acknowledgement { frames.append(acknowledgement) }
            }
        }
        return frames
    }
}
