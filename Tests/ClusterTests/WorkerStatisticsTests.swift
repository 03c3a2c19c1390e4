import ClusterTesting
import Foundation
import XCTest

/// A worker's counters move as it handles events, timers and failures, and are logged.
final class WorkerStatisticsTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testCountersAreLogged() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        let worker = try cluster.startWorker(name: "counted", handler: "probe", extraArguments: ["--stats-interval", "0.2"])
        try cluster.waitUntilLinked(worker, to: gateway)
        try worker.waitForOutput(containing: "worker statistics: events_handled=0 ", timeout: .seconds(5))

        let client = try await ProbeClient.connect(port: gateway.publicPort)  // connect, handshake, whoami
        try await client.call("timer", ["afterMilliseconds": 1, "text": "tick"])
        let tick = try await client.nextPush()
        XCTAssertTrue(tick.hasPrefix("tick from timer"))
        try await client.socket.send(#"{"id":9,"call":"raise"}"#)

        try worker.waitForOutput(
            containing: "events_handled=5 redelivered_events=0 handler_errors=1 timers_fired=1 channel_events=0 gateway_links=1 registry_errors=0 channel_events_dropped=0",
            timeout: .seconds(10)
        )
        try worker.waitForOutput(containing: "event handler threw: raised on request", timeout: .seconds(5))
    }
}
