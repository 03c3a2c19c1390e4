import ClusterTesting
import Foundation
import NIOCore
import Wire
import XCTest

/// A worker with `--max-concurrent-events` above 1 runs different clients' events at once: a client
/// whose handler is suspended holds back only its own later events; at most that many run at once;
/// a graceful stop still handles everything in flight, and a kill -9 redelivers only what was not
/// handled, although events end out of arrival order.
final class ConcurrentDispatchTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testAnotherClientsEventsRunWhileOneClientsHandlerIsSuspendedAndEachKeepsItsOrder() async throws {
        let (slowFirstReply, otherDone) = try await raceSlowClient(maxConcurrentEvents: 8)
        XCTAssertLessThan(otherDone, slowFirstReply, "the other client waited for the sleeping one")
    }

    func testWithTheDefaultEveryEventWaitsForTheOneBeforeIt() async throws {
        let (slowFirstReply, otherDone) = try await raceSlowClient(maxConcurrentEvents: nil)
        XCTAssertGreaterThan(otherDone, slowFirstReply, "one event at a time: the other client's wait behind the sleep")
    }

    func testNoMoreEventsRunAtOnceThanTheLimit() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        let worker = try cluster.startWorker(name: "limited", handler: "probe", extraArguments: ["--max-concurrent-events", "3"])
        try cluster.waitUntilLinked(worker, to: gateway)
        var clients: [ProbeClient] = []
        for _ in 0..<7 { clients.append(try await ProbeClient.connect(port: gateway.publicPort)) }
        for client in clients {
            try await client.socket.send(#"{"id":1,"call":"sleep","args":{"milliseconds":400}}"#)
        }
        var running: [Int] = []
        for client in clients {
            let reply = try Self.decode(try await client.socket.receiveText(timeout: .seconds(10)))
            running.append(try XCTUnwrap(reply["result"]?.intValue, "\(reply)"))
        }
        // Each answer is how many sleeps ran when it began: never more than 3, and 3 at some point.
        XCTAssertEqual(running.max(), 3, "\(running)")
    }

    func testGracefulStopHandlesEveryEventInFlight() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--stats-interval", "0.1"])
        let doomed = try cluster.startWorker(name: "doomed", handler: "probe", extraArguments: ["--max-concurrent-events", "8"])
        try cluster.waitUntilLinked(doomed, to: gateway)
        var clients: [ProbeClient] = []
        for _ in 0..<4 { clients.append(try await ProbeClient.connect(port: gateway.publicPort)) }
        let survivor = try cluster.startWorker(name: "survivor", handler: "probe", extraArguments: ["--max-concurrent-events", "8"])
        try cluster.waitUntilLinked(survivor, to: gateway)

        for client in clients {
            try await client.socket.send(#"{"id":1,"call":"sleep","args":{"milliseconds":1000}}"#)
            try await client.socket.send(#"{"id":2,"call":"whoami"}"#)
        }
        // 4 whoamis at connect, then the 8 calls: written to the doomed worker by the time they are counted.
        _ = try await GatewayStatisticsLog.wait(for: gateway) { ($0["messages_in"] ?? 0) >= 12 }
        doomed.send(signal: SIGTERM)
        for client in clients {
            let sleep = try Self.decode(try await client.socket.receiveText(timeout: .seconds(10)))
            XCTAssertEqual(sleep["id"], 1)
            XCTAssertNotNil(sleep["result"]?.intValue, "\(sleep)")
            let whoami = try Self.decode(try await client.socket.receiveText(timeout: .seconds(10)))
            XCTAssertEqual(whoami["id"], 2)
            XCTAssertTrue(whoami["result"]?["worker"]?.stringValue?.hasPrefix("doomed") ?? false, "\(whoami)")
            XCTAssertEqual(whoami["result"]?["redelivered"], false)
        }
        XCTAssertEqual(try doomed.waitForExit(timeout: .seconds(10)), 0)
        let counters = try await GatewayStatisticsLog.wait(for: gateway) { ($0["worker_links"] ?? 0) == 1 }
        XCTAssertEqual(counters["redelivered_events"], 0)
    }

    func testKillNineRedeliversOnlyTheEventsNotHandledThoughLaterOnesEndedFirst() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--stats-interval", "0.1"])
        let doomed = try cluster.startWorker(name: "doomed", handler: "probe", extraArguments: ["--max-concurrent-events", "8"])
        try cluster.waitUntilLinked(doomed, to: gateway)
        let slow = try await ProbeClient.connect(port: gateway.publicPort)
        let quick = try await ProbeClient.connect(port: gateway.publicPort)
        let survivor = try cluster.startWorker(name: "survivor", handler: "probe", extraArguments: ["--max-concurrent-events", "8"])
        try cluster.waitUntilLinked(survivor, to: gateway)

        // The sleep holds back the acknowledgement's count; the quick client's calls, after it on the
        // link, end first and are acknowledged by position.
        try await slow.socket.send(#"{"id":101,"call":"sleep","args":{"milliseconds":2000}}"#)
        try await slow.socket.send(#"{"id":102,"call":"whoami"}"#)
        _ = try await GatewayStatisticsLog.wait(for: gateway) { ($0["messages_in"] ?? 0) >= 4 }
        for _ in 0..<10 {
            let whoami = try await quick.call("whoami")
            XCTAssertTrue(whoami["worker"]?.stringValue?.hasPrefix("doomed") ?? false, "\(whoami)")
        }
        doomed.kill()

        let sleep = try Self.decode(try await slow.socket.receiveText(timeout: .seconds(10)))
        XCTAssertEqual(sleep["id"], 101)
        let whoami = try Self.decode(try await slow.socket.receiveText(timeout: .seconds(10)))
        XCTAssertEqual(whoami["id"], 102)
        XCTAssertEqual(whoami["result"]?["redelivered"], true)
        XCTAssertTrue(whoami["result"]?["worker"]?.stringValue?.hasPrefix("survivor") ?? false, "\(whoami)")
        // A redelivered call of the quick client would be answered before this newer one.
        try await quick.socket.send(#"{"id":500,"call":"whoami"}"#)
        let after = try Self.decode(try await quick.socket.receiveText(timeout: .seconds(10)))
        XCTAssertEqual(after["id"], 500, "\(after)")
        XCTAssertEqual(after["result"]?["redelivered"], false, "\(after)")
        let counters = try await GatewayStatisticsLog.wait(for: gateway) { ($0["redelivered_events"] ?? 0) > 0 }
        XCTAssertEqual(counters["redelivered_events"], 2, "only the sleep and the call behind it")
    }

    /// A slow client's sleep, then 20 of its calls, and another client's 20 calls made meanwhile, on
    /// one worker. Checks that each client's answers come in its order, and returns when the slow
    /// client's first answer came and when the other client had all of its.
    private func raceSlowClient(maxConcurrentEvents: Int?) async throws -> (slowFirstReply: ContinuousClock.Instant, otherDone: ContinuousClock.Instant) {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        let limit = maxConcurrentEvents.map { ["--max-concurrent-events", "\($0)"] } ?? []
        let worker = try cluster.startWorker(name: "probe", handler: "probe", extraArguments: limit)
        try cluster.waitUntilLinked(worker, to: gateway)
        let slow = try await ProbeClient.connect(port: gateway.publicPort)
        let other = try await ProbeClient.connect(port: gateway.publicPort)

        try await slow.socket.send(#"{"id":0,"call":"sleep","args":{"milliseconds":1500}}"#)
        for id in 1...20 {
            try await slow.socket.send(#"{"id":\#(id),"call":"\#(id.isMultiple(of: 3) ? "isOnline" : "whoami")"}"#)
        }
        async let slowReplies = Self.replyIDs(of: slow, count: 21)
        async let otherReplies = Self.sendAndReceive(other, calls: 20)
        let (slowIDs, slowFirstReply) = try await slowReplies
        let (otherIDs, otherDone) = try await otherReplies
        XCTAssertEqual(slowIDs, Array(0...20))
        XCTAssertEqual(otherIDs, Array(1...20))
        return (slowFirstReply, otherDone)
    }

    /// Reads `count` answers; returns their ids in order and when the first came.
    private static func replyIDs(of client: ProbeClient, count: Int) async throws -> ([Int], ContinuousClock.Instant) {
        var ids: [Int] = []
        var first: ContinuousClock.Instant?
        for _ in 0..<count {
            let reply = try decode(try await client.socket.receiveText(timeout: .seconds(10)))
            first = first ?? .now
            XCTAssertNil(reply["error"], "\(reply)")
            ids.append(reply["id"]?.intValue ?? -1)
        }
        return (ids, first!)
    }

    /// Sends `calls` calls back to back (some that query the gateway, so they suspend), reads the
    /// answers; returns their ids in order and when the last came.
    private static func sendAndReceive(_ client: ProbeClient, calls: Int) async throws -> ([Int], ContinuousClock.Instant) {
        for id in 1...calls {
            try await client.socket.send(#"{"id":\#(id),"call":"\#(id.isMultiple(of: 2) ? "isOnline" : "whoami")"}"#)
        }
        var ids: [Int] = []
        for _ in 0..<calls {
            let reply = try decode(try await client.socket.receiveText(timeout: .seconds(10)))
            XCTAssertNil(reply["error"], "\(reply)")
            ids.append(reply["id"]?.intValue ?? -1)
        }
        return (ids, .now)
    }

    private static func decode(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }
}
