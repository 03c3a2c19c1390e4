import NIOCore
import NIOEmbedded
import XCTest

@testable import Gateway

/// The accept-rate cap on a listener's pipeline, on an embedded loop's clock: reads pass while the
/// burst allows, wait for the next slot otherwise, and accepted connections pay for them.
final class AcceptRateLimiterTests: XCTestCase {
    /// Counts the reads that get past the limiter (it sits between the pipeline's tail and this).
    private final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Never
        var reads = 0

        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    private var loop: EmbeddedEventLoop!
    private var channel: EmbeddedChannel!
    private var counter: ReadCounter!

    override func setUpWithError() throws {
        loop = EmbeddedEventLoop()
        counter = ReadCounter()
        channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(AcceptRateLimiter(perSecond: 10, burst: 2, now: loop.now))
    }

    override func tearDownWithError() throws {
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    private func accept(_ count: Int) throws {
        for _ in 0..<count { try channel.writeInbound(EmbeddedChannel() as Channel) }
    }

    func testReadsPassWhileTheBucketHoldsTokens() throws {
        channel.read()
        try accept(1)
        channel.read()
        XCTAssertEqual(counter.reads, 2)
    }

    func testAnEmptyBucketHoldsTheReadUntilTheNextToken() throws {
        try accept(2)
        channel.read()
        XCTAssertEqual(counter.reads, 0, "the burst is spent: the read waits")
        channel.read()
        loop.advanceTime(by: .milliseconds(90))
        XCTAssertEqual(counter.reads, 0, "a slot every 100 ms at 10 per second")
        loop.advanceTime(by: .milliseconds(10))
        XCTAssertEqual(counter.reads, 1, "one delayed read, however many were asked for")
    }

    func testAReadThatTookSeveralConnectionsIsPaidBackBeforeTheNext() throws {
        // One read accepted 5 with a burst of 2: the next read waits until 4 intervals have passed.
        try accept(5)
        channel.read()
        loop.advanceTime(by: .milliseconds(390))
        XCTAssertEqual(counter.reads, 0)
        loop.advanceTime(by: .milliseconds(10))
        XCTAssertEqual(counter.reads, 1)
    }

    func testAQuietSpellSavesNoMoreThanTheBurst() throws {
        loop.advanceTime(by: .seconds(60))
        try accept(2)
        channel.read()
        XCTAssertEqual(counter.reads, 0, "a quiet minute still leaves only a burst of 2")
    }
}
