import ClusterTesting
import Foundation
import NIOCore
import XCTest

/// A worker killed with -9 while clients are sending: clients stay connected and the other worker answers.
final class WorkerFailoverTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testKillingOneWorkerDisconnectsNoClientAndTheOtherAnswers() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--stats-interval", "0.1"])
        let doomed = try cluster.startWorker(name: "doomed")
        let survivor = try cluster.startWorker(name: "survivor")
        try cluster.waitUntilLinked(doomed, to: gateway)
        try cluster.waitUntilLinked(survivor, to: gateway)

        var clients: [WebSocketTestClient] = []
        for _ in 0..<20 { clients.append(try await WebSocketTestClient.connect(port: gateway.publicPort)) }

        // Every client sends and gets its echo until the kill, then sends once more.
        let killed = ManagedAtomicFlag()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for (index, client) in clients.enumerated() {
                tasks.addTask {
                    var sequence = 0
                    while !killed.isSet {
                        try await client.send("client \(index) message \(sequence)")
                        let reply = try await client.receiveText(timeout: .seconds(5))
                        XCTAssertEqual(reply, "client \(index) message \(sequence)")
                        sequence += 1
                    }
                }
            }
            tasks.addTask {
                try await Task.sleep(nanoseconds: 500_000_000)
                // Frozen first, so that it surely dies holding events: its 10 clients each wait for an
                // answer, and the other worker's 10 cannot alone leave 11 messages unanswered.
                try doomed.freeze()
                defer {
                    doomed.kill()
                    killed.set()
                }
                _ = try await GatewayStatisticsLog.wait(for: gateway) { ($0["messages_in"] ?? 0) - ($0["messages_out"] ?? 0) >= 11 }
            }
            try await tasks.waitForAll()
        }

        for (index, client) in clients.enumerated() {
            XCTAssertTrue(client.isOpen, "client \(index) was disconnected")
            try await client.send("after the kill \(index)")
            let reply = try await client.receiveText(timeout: .seconds(2))
            XCTAssertEqual(reply, "after the kill \(index)")
        }
        for client in clients { await client.close() }
        _ = try await GatewayStatisticsLog.wait(for: gateway) { ($0["redelivered_events"] ?? 0) > 0 }
    }
}
