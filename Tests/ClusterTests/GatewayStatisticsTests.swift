import ClusterTesting
import Foundation
import NIOCore
import XCTest

/// The gateway's counters move with what happens, as its `--stats-interval` log line shows.
final class GatewayStatisticsTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testCountersFollowClientsMessagesAndRedeliveries() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--stats-interval", "0.2"])
        let worker = try cluster.startWorker(name: "first")
        try cluster.waitUntilLinked(worker, to: gateway)
        let idle = try await GatewayStatisticsLog.wait(for: gateway) { $0["worker_links"] == 1 }
        XCTAssertEqual(idle["clients"], 0)
        XCTAssertEqual(idle["messages_in"], 0)

        let alice = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let bob = try await WebSocketTestClient.connect(port: gateway.publicPort)
        for index in 0..<3 {
            try await alice.send("hello \(index)")
            _ = try await alice.receiveText()
        }
        try await bob.send("B to both")
        _ = try await alice.receiveText()
        _ = try await bob.receiveText()
        let busy = try await GatewayStatisticsLog.wait(for: gateway) { $0["messages_out"] == 5 }
        XCTAssertEqual(busy["clients"], 2)
        XCTAssertEqual(busy["clients_total"], 2)
        XCTAssertEqual(busy["messages_in"], 4)
        XCTAssertEqual(busy["send_failures"], 0)
        XCTAssertEqual(busy["send_buffer_drops"], 0)
        XCTAssertEqual(busy["redelivered_events"], 0)

        await bob.close()
        _ = try await GatewayStatisticsLog.wait(for: gateway) { $0["clients"] == 1 && $0["clients_total"] == 2 }

        // A frozen worker never acknowledges; killed, its link hands the events back.
        try worker.freeze()
        for index in 0..<3 { try await alice.send("held \(index)") }
        _ = try await GatewayStatisticsLog.wait(for: gateway) { $0["messages_in"] == 7 }
        worker.kill()
        let handedBack = try await GatewayStatisticsLog.wait(for: gateway) { $0["worker_links"] == 0 }
        XCTAssertGreaterThanOrEqual(handedBack["redelivered_events"] ?? 0, 3)
        let replacement = try cluster.startWorker(name: "replacement")
        try cluster.waitUntilLinked(replacement, to: gateway)
        for index in 0..<3 {
            let reply = try await alice.receiveText(timeout: .seconds(10))
            XCTAssertEqual(reply, "held \(index)")
        }
        await alice.close()
    }

    func testFailedRegistrationsAreCounted() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--stats-interval", "0.2"])
        let registered = try await GatewayStatisticsLog.wait(for: gateway) { $0["clients"] == 0 }
        XCTAssertEqual(registered["registry_errors"], 0)
        cluster.memcached.stop()
        _ = try await GatewayStatisticsLog.wait(for: gateway) { ($0["registry_errors"] ?? 0) >= 1 }
    }
}
