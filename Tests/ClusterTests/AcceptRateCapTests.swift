import ClusterTesting
import Foundation
import XCTest

/// `--max-accepts-per-second`: a gateway takes connections in no faster than its cap, and the ones
/// that wait in the backlog are served, not dropped.
final class AcceptRateCapTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testConnectionsBeyondTheCapWaitAndAreAllServed() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--max-accepts-per-second", "10"])
        let worker = try cluster.startWorker()
        try cluster.waitUntilLinked(worker, to: gateway)

        // 40 at once: 10 from the full bucket, the other 30 at 10 per second (one accept read may take
        // a few more and the bucket pays them back), so the last waits at least about 2 s.
        let started = ContinuousClock.now
        let clients = try await withThrowingTaskGroup(of: WebSocketTestClient.self) { group in
            for _ in 0..<40 {
                group.addTask { try await WebSocketTestClient.connect(port: gateway.publicPort) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - started
        XCTAssertEqual(clients.count, 40)
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(2000), "40 connections in \(elapsed) through a cap of 10 per second")
        for client in clients {
            try await client.send("still here")
            let echoed = try await client.receiveText()
            XCTAssertEqual(echoed, "still here")
        }
        for client in clients { await client.close() }
    }

    func testNegativeCapIsRefused() throws {
        let outcome = try CommandRunner.run(
            TestCluster.binaryPath, ["gateway", "--max-accepts-per-second=-1", "--listen", "127.0.0.1:0", "--lan-port", "\(freeTCPPort())"],
            environment: ["DATACENTERED_SECRET_KEY": "test-secret-accept-cap"], timeout: .seconds(20))
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.output.contains("max accepts per second"), outcome.output)
    }
}
