import ClusterTesting
import Foundation
import XCTest

/// A gateway with several event loops (its default is one per core): a broadcast reaches every
/// client on every loop exactly once, and echoes still come back to their senders.
final class MultiLoopBroadcastTests: XCTestCase {
    func testABroadcastReachesEveryClientOnEveryLoopOnce() async throws {
        let cluster = try TestCluster()
        defer { cluster.stopAll() }
        let gateway = try cluster.startGateway(eventLoops: 2)
        let worker = try cluster.startWorker(name: "echo-a")
        try cluster.waitUntilLinked(worker, to: gateway)
        // Accepted connections go to the loops in turn, so four clients sit on both loops.
        var clients: [WebSocketTestClient] = []
        for _ in 0..<4 { clients.append(try await WebSocketTestClient.connect(port: gateway.publicPort)) }
        try await clients[0].send("B to everyone")
        for client in clients {
            let received = try await client.receiveText()
            XCTAssertEqual(received, "B to everyone")
        }
        // A second copy of the broadcast would come before the reply to anything sent after it.
        for (index, client) in clients.enumerated() {
            try await client.send("echo \(index)")
            let reply = try await client.receiveText()
            XCTAssertEqual(reply, "echo \(index)")
        }
        for client in clients { await client.close() }
    }
}
