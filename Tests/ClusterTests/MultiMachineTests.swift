import ClusterTesting
import Foundation
import XCTest

/// A cluster spread over "machines" made of network namespaces on one bridge: memcached, two
/// gateways and two workers each on its own. Cutting a worker machine off without a reset (its
/// interface set down: packets vanish, nothing answers) loses no message and drops no client.
final class MultiMachineTests: XCTestCase {
    private var network: NamespaceNetwork?
    private var processes: [ManagedProcess] = []

    override func tearDown() async throws {
        for process in processes.reversed() { process.terminate() }
        network?.remove()
    }

    /// memcached, two gateways and two workers, each on a machine of its own, all linked.
    private func startCluster() throws -> (network: NamespaceNetwork, gateways: [(process: ManagedProcess, ip: String)], workers: [ManagedProcess]) {
        let network: NamespaceNetwork
        do {
            network = try NamespaceNetwork(machines: ["mc", "g1", "g2", "w1", "w2"])
        } catch {
            throw XCTSkip("no network namespaces: \(error)")
        }
        self.network = network
        let key = "multi-machine-\(UUID().uuidString)"
        let memcached = "\(network.address(of: "mc")):11211"
        let memcachedArguments = ["-l", network.address(of: "mc"), "-p", "11211", "-U", "0", "-m", "64"] + (geteuid() == 0 ? ["-u", "root"] : [])
        let registry = try start(on: "mc", "/usr/bin/memcached", memcachedArguments, key: key)
        try registry.waitForPort(host: network.address(of: "mc"), port: 11211, timeout: .seconds(20))

        var gateways: [(process: ManagedProcess, ip: String)] = []
        for machine in ["g1", "g2"] {
            let ip = network.address(of: machine)
            let gateway = try start(
                on: machine,
                TestCluster.binaryPath,
                ["gateway", "--listen", "\(ip):8282", "--lan-ip", ip, "--lan-port", "2900", "--event-loops", "1",
                 "--memcached", memcached, "--stats-interval", "0.2", "--log-level", "debug"],
                key: key
            )
            try gateway.waitForOutput(containing: "gateway registered in memcached", timeout: .seconds(20))
            gateways.append((gateway, ip))
        }
        var workers: [ManagedProcess] = []
        for machine in ["w1", "w2"] {
            let worker = try start(on: machine, TestCluster.binaryPath, ["worker", "--name", machine, "--memcached", memcached, "--log-level", "debug"], key: key)
            for (_, ip) in gateways { try worker.waitForOutput(containing: "linked to gateway \(ip):2900", timeout: .seconds(20)) }
            workers.append(worker)
        }
        return (network, gateways, workers)
    }

    func testCuttingAWorkerMachineOffLosesNothingAndItsEventsGoToTheOther() async throws {
        let (network, gateways, _) = try startCluster()
        var clients: [WebSocketTestClient] = []
        for index in 0..<200 {
            clients.append(try await WebSocketTestClient.connect(host: gateways[index % 2].ip, port: 8282))
        }
        let outcome = try await NumberedLoad().run(clients) {
            try network.cut("w1")
        }
        for client in clients { await client.abort() }
        print("multi-machine: worker machine cut off; longest wait for an answer \(outcome.longestWait), \(outcome.duplicates) answers repeated")
        XCTAssertLessThanOrEqual(outcome.duplicates, 1)
        // Noticed after 3 silent keepalive intervals; the load machine's slack on top.
        XCTAssertLessThan(outcome.longestWait, .seconds(8))
        for (gateway, _) in gateways {
            try gateway.waitForOutput(containing: "worker link silent", timeout: .seconds(10))
        }
        // The last answers may come in before the next statistics line (every 0.2 s) counts their redelivery.
        var redelivered = 0
        let deadline = ContinuousClock.now + .seconds(10)
        while redelivered == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            redelivered = gateways.reduce(0) { $0 + (GatewayStatisticsLog.latest(in: $1.0)?["redelivered_events"] ?? 0) }
        }
        XCTAssertGreaterThan(redelivered, 0, "the cut worker held no event: redelivery was not exercised")
    }

    func testAnUnreachableMemcachedKeepsTheLinksWorkingAndIsLoggedOnce() async throws {
        let (network, gateways, workers) = try startCluster()
        var clients: [WebSocketTestClient] = []
        for index in 0..<20 {
            clients.append(try await WebSocketTestClient.connect(host: gateways[index % 2].ip, port: 8282))
        }
        try network.cut("mc")
        for worker in workers {
            try worker.waitForOutput(containing: "cannot read gateways from the registry, keeping current links", timeout: .seconds(10))
        }
        // Every client is still answered, through the links made before.
        for (index, client) in clients.enumerated() {
            try await client.send("during the outage \(index)")
            let reply = try await client.receiveText(timeout: .seconds(5))
            XCTAssertEqual(reply, "during the outage \(index)")
        }
        try network.restore("mc")
        for worker in workers {
            try worker.waitForOutput(containing: "registry reachable again", timeout: .seconds(15))
            let errors = worker.output.components(separatedBy: "cannot read gateways from the registry").count - 1
            XCTAssertEqual(errors, 1, "the outage is logged once, not once per attempt")
            XCTAssertFalse(worker.output.contains("forgot gateway"), "a link was dropped for the outage")
        }
        for client in clients {
            try await client.send("after")
            let reply = try await client.receiveText(timeout: .seconds(5))
            XCTAssertEqual(reply, "after")
            await client.abort()
        }
    }

    private func start(on machine: String, _ executable: String, _ arguments: [String], key: String) throws -> ManagedProcess {
        let process = try ManagedProcess(
            executable: NamespaceNetwork.ip,
            arguments: ["netns", "exec", network!.namespace(of: machine), executable] + arguments,
            environment: ["DATACENTERED_SECRET_KEY": key]
        )
        processes.append(process)
        return process
    }
}
