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

    /// A gateway killed for good sends no close for its clients: once it is no longer registered the
    /// worker drops the sessions it cached for them, and only theirs.
    func testTheCachedSessionsOfAKilledGatewaysClientsAreDropped() async throws {
        cluster = try TestCluster()
        let doomed = try cluster.startGateway()
        let survivor = try cluster.startGateway()
        let worker = try cluster.startWorker(name: "probe", handler: "probe")
        for gateway in [doomed, survivor] { try cluster.waitUntilLinked(worker, to: gateway) }
        var clients: [ProbeClient] = []
        for port in [doomed.publicPort, doomed.publicPort, doomed.publicPort, survivor.publicPort] {
            let client = try await ProbeClient.connect(port: port)
            try await client.call("setCurrentSession", ["key": "role", "value": "admin"])
            clients.append(client)
        }

        doomed.process.kill()
        try worker.waitForOutput(containing: "dropped 3 cached client sessions of gateway \(doomed.lanAddress)", timeout: .seconds(20))
        XCTAssertFalse(worker.output.contains("cached client sessions of gateway \(survivor.lanAddress)"))
        let kept = try await clients[3].call("whoami")
        XCTAssertEqual(kept["session"], ["role": "admin"])
        for client in clients { await client.socket.abort() }
    }

    /// A gateway killed and started again numbers its connections from the start: a new connection
    /// that gets the id of one that died with the gateway starts with an empty session, not the one
    /// the worker wrote for the dead connection (which could have been authenticated).
    func testANewConnectionOfARestartedGatewayDoesNotInheritAnOldSession() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        let worker = try cluster.startWorker(name: "probe", handler: "probe")
        try cluster.waitUntilLinked(worker, to: gateway)
        let old = try await ProbeClient.connect(port: gateway.publicPort)
        try await old.call("setCurrentSession", ["key": "role", "value": "admin"])
        let written = try await old.call("whoami")
        XCTAssertEqual(written["session"], ["role": "admin"])

        gateway.process.kill()
        try gateway.process.start()
        try worker.waitForOutput(containing: "linked to gateway \(gateway.lanAddress)", times: 2, timeout: .seconds(20))
        let new = try await ProbeClient.connect(port: gateway.publicPort)
        XCTAssertEqual(new.id, old.id, "the restarted gateway gives the new connection the dead one's id")
        let fresh = try await new.call("whoami")
        XCTAssertEqual(fresh["session"], [:])
        await new.socket.close()
        await old.socket.abort()
    }
}
