import ClusterLogging
import Logging
import NIOCore
import NIOEmbedded
import Wire
import XCTest

@testable import Gateway

/// The routing core on one embedded event loop: a client's events stick to a worker link, stay held
/// until acknowledged, and come back in order, marked redelivered, ahead of newer events, when the
/// link ends.
final class ClientEventRouterTests: XCTestCase {
    // Made in setUp: an embedded loop must be used from the thread that made it.
    private var loop: EmbeddedEventLoop!
    private let logger = Logger(label: "test")
    private var links: WorkerLinkTable!
    private var router: ClientEventRouter!
    private var counters: GatewayCounters!

    override func setUpWithError() throws {
        loop = EmbeddedEventLoop()
        links = WorkerLinkTable(routing: .sticky)
        counters = GatewayCounters(group: loop)
        let directory = ClientDirectory(
            lanes: EventLoopLanes(loop),
            counters: counters,
            heartbeats: nil,
            flushQueues: PerEventLoop(loop) { ClientFlushQueue(eventLoop: $0) },
            onSendBufferFull: .drop
        )
        let client = EmbeddedChannel(loop: loop)
        router = ClientEventRouter(
            connection: directory.admit(client),
            links: links,
            limits: .init(maxWaitingEvents: 16),
            peerLog: RateLimitedLog(logger: logger)
        )
    }

    private func makeLink(id: Int, maxBacklogBytes: Int = 1 << 20) throws -> (WorkerLink, EmbeddedChannel) {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let link = WorkerLink(id: id, workerKey: "w\(id)", channel: channel, routable: true, maxBacklogBytes: maxBacklogBytes, logger: logger)
        links.add(link)
        return (link, channel)
    }

    private func event(_ text: String) -> GatewayFrame {
        GatewayFrame(command: .onMessage, connectionID: 1, body: ByteBuffer(string: text))
    }

    /// The frames written to `channel` so far, as (text, redelivered).
    private func written(_ channel: EmbeddedChannel) throws -> [(String, Bool)] {
        var frames: [(String, Bool)] = []
        while let frame = try channel.readOutbound(as: GatewayFrame.self) {
            frames.append((String(buffer: frame.body), frame.flags.contains(.redelivered)))
        }
        return frames
    }

    func testEventsStickToOneLinkInOrder() throws {
        let (_, first) = try makeLink(id: 1)
        let (_, second) = try makeLink(id: 2)
        for text in ["a", "b", "c"] { router.forward(event(text)) }
        loop.run()
        XCTAssertEqual(try written(first).map(\.0), ["a", "b", "c"])
        XCTAssertTrue(try written(second).isEmpty)
    }

    func testUnacknowledgedEventsComeBackRedeliveredBeforeNewerOnes() throws {
        let (doomed, doomedChannel) = try makeLink(id: 1)
        for text in ["1", "2", "3"] { router.forward(event(text)) }
        loop.run()
        XCTAssertEqual(try written(doomedChannel).map(\.0), ["1", "2", "3"])
        try doomed.acknowledge(1)

        let (_, survivorChannel) = try makeLink(id: 2)
        links.remove(doomed)
        // A newer event arrives while the doomed link is gone but has not handed back yet.
        _ = doomed.handBack()
        router.forward(event("4"))
        loop.run()
        let delivered = try written(survivorChannel)
        XCTAssertEqual(delivered.map(\.0), ["2", "3", "4"])
        XCTAssertEqual(delivered.map(\.1), [true, true, false])
    }

    func testEventsNamedHandledBeyondTheCountAreNotRedelivered() throws {
        let (doomed, doomedChannel) = try makeLink(id: 1)
        for text in ["1", "2", "3", "4", "5"] { router.forward(event(text)) }
        loop.run()
        XCTAssertEqual(try written(doomedChannel).map(\.0), ["1", "2", "3", "4", "5"])
        // "2" is still being handled while "3" and "5" (positions 2 and 4) are done.
        try doomed.acknowledge(1, handledBeyond: [2, 4])
        XCTAssertThrowsError(try doomed.acknowledge(1, handledBeyond: [5]), "no event at position 5")

        let (_, survivorChannel) = try makeLink(id: 2)
        links.remove(doomed)
        _ = doomed.handBack()
        loop.run()
        XCTAssertEqual(try written(survivorChannel).map(\.0), ["2", "4"])
    }

    func testAFullLinkHoldsEventsUntilItCatchesUp() throws {
        let frameSize = event("x").encodedLength
        let (link, channel) = try makeLink(id: 1, maxBacklogBytes: 2 * frameSize)
        for text in ["1", "2", "3", "4"] { router.forward(event(text)) }
        loop.run()
        XCTAssertEqual(try written(channel).map(\.0), ["1", "2"], "the backlog holds two frames")
        try link.acknowledge(2)
        loop.run()
        XCTAssertEqual(try written(channel).map(\.0), ["3", "4"])
    }

    func testEventsWaitForAWorkerAndLeaveInOrderWhenOneLinks() throws {
        for text in ["a", "b"] { router.forward(event(text)) }
        loop.run()
        let (_, channel) = try makeLink(id: 1)
        loop.run()
        XCTAssertEqual(try written(channel).map(\.0), ["a", "b"])
    }

    func testAnEventWhoseDeliveryBrokeThreeLinksIsDroppedAndItsClientClosed() throws {
        router.forward(event("poison"))
        for id in 1...3 {
            let (link, channel) = try makeLink(id: id)
            loop.run()
            XCTAssertEqual(try written(channel).map(\.0), ["poison"], "delivery \(id)")
            links.remove(link)
            _ = link.handBack()
            loop.run()
        }
        let (_, last) = try makeLink(id: 4)
        router.forward(event("after"))
        loop.run()
        XCTAssertEqual(try written(last).map(\.0), ["after"], "the poison event is not handed out a fourth time")
        XCTAssertTrue(router.connection.isClosing, "its client is closed (1011)")
        XCTAssertEqual(counters.total(.poisonEvents), 1)
    }

    func testAnEventLargerThanALinkCarriesIsNeverSent() throws {
        router = ClientEventRouter(
            connection: router.connection,
            links: links,
            limits: .init(maxEventFrameSize: 64),
            peerLog: RateLimitedLog(logger: logger)
        )
        let (_, channel) = try makeLink(id: 1)
        router.forward(event(String(repeating: "x", count: 100)))
        loop.run()
        XCTAssertTrue(try written(channel).isEmpty)
        XCTAssertTrue(router.connection.isClosing)
    }
}
