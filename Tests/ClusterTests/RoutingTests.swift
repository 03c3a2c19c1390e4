import ClusterTesting
import Foundation
import Wire
import XCTest

/// The gateway's routing of client events to workers: sticky, least-connections and random.
final class RoutingTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    /// Starts a gateway with `router` and two probe workers; returns the gateway's public port.
    private func startCluster(router: String) async throws -> Int {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--router", router])
        for name in ["probe-1", "probe-2"] {
            let worker = try cluster.startWorker(name: name, handler: "probe")
            try cluster.waitUntilLinked(worker, to: gateway)
        }
        return gateway.publicPort
    }

    private func workerName(_ whoami: JSONValue) -> String {
        String(whoami["worker"]?.stringValue?.split(separator: ":").first ?? "")
    }

    func testStickyKeepsEachClientOnOneWorker() async throws {
        let port = try await startCluster(router: "sticky")
        var used: Set<String> = []
        for _ in 0..<4 {
            let client = try await ProbeClient.connect(port: port)
            var seen: Set<String> = []
            for _ in 0..<10 { seen.insert(workerName(try await client.call("whoami"))) }
            XCTAssertEqual(seen.count, 1, "one client's events went to \(seen)")
            used.formUnion(seen)
            await client.socket.close()
        }
        XCTAssertEqual(used, ["probe-1", "probe-2"], "clients are spread over both workers")
    }

    func testLeastConnectionsBalancesClients() async throws {
        let port = try await startCluster(router: "least-connections")
        var clients: [ProbeClient] = []
        var perWorker: [String: Int] = [:]
        for _ in 0..<10 {
            let client = try await ProbeClient.connect(port: port)
            perWorker[workerName(try await client.call("whoami")), default: 0] += 1
            clients.append(client)
        }
        XCTAssertEqual(perWorker, ["probe-1": 5, "probe-2": 5])
        for client in clients { await client.socket.close() }
    }

    func testRandomSpreadsOneClientsEvents() async throws {
        let port = try await startCluster(router: "random")
        let client = try await ProbeClient.connect(port: port)
        var seen: Set<String> = []
        for _ in 0..<30 { seen.insert(workerName(try await client.call("whoami"))) }
        XCTAssertEqual(seen, ["probe-1", "probe-2"])
        await client.socket.close()
    }
}
