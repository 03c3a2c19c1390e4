import ClusterTesting
import Foundation
import NIOCore
import Wire
import XCTest

/// A worker that dies or leaves loses no client event: 200 clients send numbered messages at 20 per
/// second through 2 gateways and 2 workers while one worker goes away.
final class DeliveryGuaranteeTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testKillNineLosesNothingAndReordersNothing() async throws {
        try await assertKillNineLosesNothing(eventLoops: 1)
    }

    func testKillNineLosesNothingWithGatewaysOfTwoEventLoops() async throws {
        try await assertKillNineLosesNothing(eventLoops: 2)
    }

    private func assertKillNineLosesNothing(eventLoops: Int, file: StaticString = #filePath, line: UInt = #line) async throws {
        let outcome = try await runNumberedLoad(eventLoops: eventLoops) { doomed, gateways in
            // Frozen first, so that it surely dies holding events: its clients keep sending 20 a second.
            try doomed.freeze()
            defer { doomed.kill() }
            let before = GatewayStatisticsLog.latest(gateways[0])?["messages_in"] ?? 0
            _ = try await GatewayStatisticsLog.wait(for: gateways[0]) { ($0["messages_in"] ?? 0) >= before + 200 }
        }
        // Only the handler running at the kill may have answered before its acknowledgement left.
        XCTAssertLessThanOrEqual(outcome.duplicates, 1, "duplicates: \(outcome.duplicates)", file: file, line: line)
        XCTAssertGreaterThan(outcome.redelivered, 0, "the killed worker held no event: redelivery was not exercised", file: file, line: line)
    }

    func testGracefulStopLosesNothingAndDuplicatesNothingWithGatewaysOfTwoEventLoops() async throws {
        let outcome = try await runNumberedLoad(eventLoops: 2) { doomed, _ in doomed.send(signal: SIGTERM) }
        XCTAssertEqual(outcome.duplicates, 0)
        XCTAssertEqual(outcome.redelivered, 0, "a worker that leaves gracefully hands nothing back")
    }

    func testGracefulStopLosesNothingAndDuplicatesNothing() async throws {
        let outcome = try await runNumberedLoad { doomed, _ in doomed.send(signal: SIGTERM) }
        XCTAssertEqual(outcome.duplicates, 0)
        XCTAssertEqual(outcome.redelivered, 0, "a worker that leaves gracefully hands nothing back")
    }

    func testAnEventRedeliveredAfterAKillIsMarkedSo() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--stats-interval", "0.2"])
        let doomed = try cluster.startWorker(name: "doomed", handler: "probe")
        try cluster.waitUntilLinked(doomed, to: gateway)
        let client = try await ProbeClient.connect(port: gateway.publicPort)
        let first = try await client.call("whoami")
        XCTAssertEqual(first["redelivered"], false)
        let survivor = try cluster.startWorker(name: "survivor", handler: "probe")
        try cluster.waitUntilLinked(survivor, to: gateway)

        // A frozen worker cannot acknowledge: the next event is written to it and held.
        try doomed.freeze()
        try await client.socket.send(#"{"id":101,"call":"whoami"}"#)
        // Three messages so far (the whoami of connect, the first call, this one); the statistics line
        // that counts the third comes after the tick that read it and wrote it to the worker.
        try gateway.process.waitForOutput(containing: "messages_in=3 ", timeout: .seconds(10))
        doomed.kill()
        let reply = try JSONDecoder().decode(JSONValue.self, from: Data(try await client.socket.receiveText(timeout: .seconds(10)).utf8))
        XCTAssertEqual(reply["id"], 101)
        XCTAssertEqual(reply["result"]?["redelivered"], true)
        XCTAssertTrue(reply["result"]?["worker"]?.stringValue?.hasPrefix("survivor") ?? false, "\(reply)")
    }

    func testAWorkerThatFallsBehindIsHeldOffAndLosesNothing() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--max-worker-backlog", "2000"])
        for name in ["probe-1", "probe-2"] {
            let worker = try cluster.startWorker(name: name, handler: "probe")
            try cluster.waitUntilLinked(worker, to: gateway)
        }
        let client = try await ProbeClient.connect(port: gateway.publicPort)
        // The worker sleeping on the first call holds the next 60 events (about 3.5 KB): past 2000 bytes they wait at the gateway until it catches up.
        let request = #"{"id":0,"call":"sleep","args":{"milliseconds":1500}}"#
        try await client.socket.send(request)
        for index in 1...60 {
            try await client.socket.send(#"{"id":\#(index),"call":"whoami"}"#)
        }
        var answered: Set<Int> = []
        while answered.count < 61 {
            let reply = try await client.socket.receiveText(timeout: .seconds(15))
            if let id = try JSONDecoder().decode(JSONValue.self, from: Data(reply.utf8))["id"]?.intValue { answered.insert(id) }
        }
        XCTAssertEqual(answered, Set(0...60))
        try gateway.process.waitForOutput(containing: "worker is behind", timeout: .seconds(5))
        XCTAssertTrue(client.socket.isOpen)
    }

    /// Runs the load (200 clients through 2 gateways and 2 workers), calls `stopWorker` on one of the
    /// workers half-way, and checks every answer (``NumberedLoad``). Returns the number of repeated
    /// answers and of events the gateways redelivered.
    private func runNumberedLoad(
        eventLoops: Int = 1,
        stopWorker: @escaping @Sendable (ManagedProcess, [TestCluster.Gateway]) async throws -> Void
    ) async throws -> (duplicates: Int, redelivered: Int) {
        cluster = try TestCluster()
        let statistics = ["--stats-interval", "0.1"]
        let gateways = try (0..<2).map { _ in try cluster.startGateway(eventLoops: eventLoops, extraArguments: statistics) }
        let doomed = try cluster.startWorker(name: "doomed")
        let survivor = try cluster.startWorker(name: "survivor")
        for worker in [doomed, survivor] {
            for gateway in gateways { try cluster.waitUntilLinked(worker, to: gateway, eventLoops: eventLoops) }
        }

        var clients: [WebSocketTestClient] = []
        for index in 0..<200 {
            clients.append(try await WebSocketTestClient.connect(port: gateways[index % 2].publicPort))
        }
        let outcome = try await NumberedLoad().run(clients) { try await stopWorker(doomed, gateways) }
        for client in clients { await client.abort() }
        XCTAssertTrue(survivor.isRunning)
        // Counted when the link closed, long before the last answer.
        let redelivered = gateways.reduce(0) { $0 + (GatewayStatisticsLog.latest($1)?["redelivered_events"] ?? 0) }
        return (outcome.duplicates, redelivered)
    }
}
