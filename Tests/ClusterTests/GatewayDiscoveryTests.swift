import ClusterTesting
import Foundation
import XCTest

/// Workers find gateways through memcached: a new one within 2 s, a dead one dropped.
final class GatewayDiscoveryTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testLateGatewayIsLinkedAndKilledGatewayIsDropped() async throws {
        cluster = try TestCluster()
        let first = try cluster.startGateway()
        let workers = [try cluster.startWorker(name: "w1"), try cluster.startWorker(name: "w2")]
        for worker in workers { try cluster.waitUntilLinked(worker, to: first) }

        let second = try cluster.startGateway()
        for worker in workers { try cluster.waitUntilLinked(worker, to: second, timeout: .seconds(2)) }

        let client = try await WebSocketTestClient.connect(port: second.publicPort)
        try await client.send("via the second gateway")
        let reply = try await client.receiveText()
        XCTAssertEqual(reply, "via the second gateway")
        await client.abort()

        second.process.kill()
        for worker in workers {
            try worker.waitForOutput(containing: "forgot gateway \(second.lanAddress)", timeout: .seconds(15))
        }
        // The first gateway still serves.
        let survivor = try await WebSocketTestClient.connect(port: first.publicPort)
        try await survivor.send("still here")
        let survivorReply = try await survivor.receiveText()
        XCTAssertEqual(survivorReply, "still here")
        await survivor.close()
    }
}
