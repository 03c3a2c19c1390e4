import ClusterTesting
import Foundation
import Supervisor
import XCTest

/// `datacentered start` in the foreground: status, stop, respawn, back-off, single instance.
final class SupervisorProcessTests: XCTestCase {
    private var cluster: SupervisedCluster!

    override func tearDown() {
        cluster?.tearDown()
    }

    func testStartRunsTheClusterStatusShowsItAndStopLeavesNoProcess() async throws {
        cluster = try SupervisedCluster()
        let master = try cluster.start()
        let report = try cluster.waitForStatus("every process answering") { report in
            report.processes.allSatisfy { $0.pid != nil } && report.processes.filter { $0.role != "memcached" }.allSatisfy { $0.statistics != nil }
        }
        XCTAssertEqual(report.processesByRole, ["memcached": 1, "gateway": 1, "worker": 2])
        XCTAssertEqual(report.masterPID, master.pid)
        XCTAssertEqual(report.loadAverage.count, 3)
        for process in report.processes {
            XCTAssertGreaterThan(process.memoryBytes ?? 0, 0, process.name)
            XCTAssertNotNil(process.startedAt)
        }
        let gateway = try XCTUnwrap(report.processes.first { $0.role == "gateway" })
        XCTAssertTrue(gateway.listening.contains("ws://127.0.0.1:\(cluster.publicPort)"), gateway.listening)

        let client = try await WebSocketTestClient.connect(port: cluster.publicPort)
        try await client.send("hello")
        let echo = try await client.receiveText(timeout: .seconds(10))
        XCTAssertEqual(echo, "hello")
        let busy = try cluster.waitForStatus("the client counted") { report in
            report.processes.first { $0.role == "gateway" }?.statistics?.counters["clients"] == 1
        }
        XCTAssertGreaterThanOrEqual(busy.processes.first { $0.role == "gateway" }?.statistics?.counters["messagesIn"] ?? 0, 1)
        let text = try cluster.command(["status"])
        XCTAssertTrue(text.standardOutput.contains("worker-1"), text.output)
        XCTAssertTrue(text.standardOutput.contains("load average"), text.output)

        let connections = try cluster.command(["connections"])
        XCTAssertEqual(connections.status, 0, connections.output)
        XCTAssertTrue(connections.standardOutput.contains("1 connection"), connections.output)
        XCTAssertTrue(connections.standardOutput.contains("127.0.0.1:\(cluster.lanStartPort)"), connections.output)
        let listed = try JSONDecoder().decode([ConnectionInfo].self, from: Data(try cluster.command(["connections", "--json"]).standardOutput.utf8))
        XCTAssertEqual(listed.count, 1)
        XCTAssertTrue(listed.first?.remoteAddress.hasPrefix("127.0.0.1:") ?? false, "\(listed)")
        XCTAssertEqual(listed.first?.clientID.count, 20)
        XCTAssertLessThan(listed.first?.idleSeconds ?? -1, 60)
        XCTAssertGreaterThanOrEqual(listed.first?.idleSeconds ?? -1, 0)

        let children = report.processes.compactMap(\.pid)
        let stop = try cluster.command(["stop"])
        XCTAssertEqual(stop.status, 0, stop.output)
        let closeCode = try await client.waitForClose(timeout: .seconds(10))
        XCTAssertEqual(closeCode, .goingAway)
        XCTAssertEqual(try master.waitForExit(timeout: .seconds(20)), 0)
        XCTAssertEqual(SupervisedCluster.waitUntilGone(children), [], "processes left behind")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cluster.runDirectory.pidFile))

        let after = try cluster.command(["status"])
        XCTAssertNotEqual(after.status, 0)
        XCTAssertTrue(after.output.contains("no cluster is running (no pid file at \(cluster.runDirectory.pidFile))"), after.output)
    }

    /// With external memcached (the master starts none), `stop` takes the gateway out of the registry
    /// before it exits, so workers elsewhere stop linking to it at once rather than after the expiry.
    func testStopTakesTheGatewayOutOfAnExternalRegistry() async throws {
        let memcached = try MemcachedServer()
        defer { memcached.stop() }
        cluster = try SupervisedCluster(configuration: ["roles": ["gateway", "worker"], "memcached": ["servers": [memcached.address]]])
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cluster.configPath))) as? [String: Any]
        let prefix = try XCTUnwrap((document?["memcached"] as? [String: Any])?["keyPrefix"] as? String)
        let gateway = "127.0.0.1:\(cluster.lanStartPort)"
        let registered = { () async throws -> (live: Bool, listed: Bool) in
            let reply = try await RawTCPClient.exchange(
                port: memcached.port, bytes: Array("get \(prefix):gateway:\(gateway) \(prefix):gateways\r\nquit\r\n".utf8)
            )
            let text = String(decoding: reply.received, as: UTF8.self)
            return (text.contains("VALUE \(prefix):gateway:\(gateway) "), text.contains("VALUE \(prefix):gateways ") && text.contains(gateway))
        }

        let master = try cluster.start()
        let deadline = ContinuousClock.now + .seconds(20)
        while try await registered() != (true, true), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let before = try await registered()
        XCTAssertTrue(before.live && before.listed, "the gateway never registered in \(memcached.address)")

        let stop = try cluster.command(["stop"])
        XCTAssertEqual(stop.status, 0, stop.output)
        XCTAssertEqual(try master.waitForExit(timeout: .seconds(20)), 0)
        let after = try await registered()
        XCTAssertFalse(after.live, "the gateway's liveness key outlived it")
        XCTAssertFalse(after.listed, "the gateway is still in the registry's list")
    }

    func testASecondStartIsRefusedAndAMasterKilledWithSIGKILLLeavesNoChildAndOnlyAStalePidFile() async throws {
        cluster = try SupervisedCluster()
        let master = try cluster.start()
        let second = try cluster.command(["start"])
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.output.contains("already running (pid \(master.pid!))"), second.output)

        let report = try cluster.waitForStatus("every process running") { $0.processes.allSatisfy { $0.pid != nil } }
        master.kill()
        XCTAssertEqual(SupervisedCluster.waitUntilGone(report.processes.compactMap(\.pid), timeout: .seconds(10)), [], "children outlived their supervisor")
        XCTAssertTrue(FileManager.default.fileExists(atPath: cluster.runDirectory.pidFile))
        let stale = try cluster.command(["status"])
        XCTAssertNotEqual(stale.status, 0)
        XCTAssertTrue(stale.output.contains("no cluster is running"), stale.output)
        XCTAssertTrue(stale.output.contains("stale"), stale.output)

        try cluster.start()
        try cluster.waitForStatus("the cluster running again") { $0.processesByRole["worker"] == 2 }
    }

    func testAWorkerKilledWithSIGKILLIsReplacedWithinASecondAndItsClientsLoseNothing() async throws {
        cluster = try SupervisedCluster(configuration: ["worker": ["count": 1]])
        let master = try cluster.start()
        let before = try cluster.waitForStatus("the worker linked") { report in
            report.processes.first { $0.role == "worker" }?.statistics?.counters["gatewayLinks"] == 1
        }
        let client = try await WebSocketTestClient.connect(port: cluster.publicPort)
        try await client.send("first")
        _ = try await client.receiveText(timeout: .seconds(10))

        let doomed = try XCTUnwrap(cluster.pids(of: "worker", in: before).first)
        kill(doomed, SIGKILL)
        // With no worker at all, these wait at the gateway until the replacement links.
        for index in 0..<5 { try await client.send("waiting \(index)") }
        for index in 0..<5 {
            let answer = try await client.receiveText(timeout: .seconds(15))
            XCTAssertEqual(answer, "waiting \(index)")
        }
        let after = try cluster.waitForStatus("a new worker") { report in
            let pids = self.cluster.pids(of: "worker", in: report)
            return pids.count == 1 && pids[0] != doomed
        }
        XCTAssertEqual(after.exitsByRole["worker"], ["SIGKILL": 1])
        XCTAssertEqual(after.processes.first { $0.role == "worker" }?.restarts, 1)
        let replacement = try XCTUnwrap(cluster.pids(of: "worker", in: after).first)
        let delay = try respawnDelay(in: master.output, ended: doomed, started: replacement)
        XCTAssertLessThan(delay, 1.0, "the worker was replaced after \(delay) s")
    }

    func testAGatewayKilledWithSIGKILLIsReplacedAndServesAgain() async throws {
        cluster = try SupervisedCluster()
        try cluster.start()
        let before = try cluster.waitForStatus("every process running") { $0.processes.allSatisfy { $0.pid != nil } }
        let doomed = try XCTUnwrap(cluster.pids(of: "gateway", in: before).first)
        kill(doomed, SIGKILL)
        try cluster.waitForStatus("a new gateway with both workers linked") { report in
            guard let gateway = report.processes.first(where: { $0.role == "gateway" }) else { return false }
            return gateway.pid != nil && gateway.pid != doomed && gateway.statistics?.counters["workerLinks"] == 2
        }
        let client = try await WebSocketTestClient.connect(port: cluster.publicPort)
        try await client.send("again")
        let answer = try await client.receiveText(timeout: .seconds(10))
        XCTAssertEqual(answer, "again")
    }

    func testAWorkerThatFailsAtOnceIsRestartedWithGrowingDelaysNotInALoop() async throws {
        cluster = try SupervisedCluster(configuration: ["worker": ["count": 1, "extraArguments": ["--query-timeout", "soon"]]])
        let master = try cluster.start()
        try master.waitForOutput(containing: "3 times in a row; restarting in 2 s", timeout: .seconds(30))
        let report = try cluster.status()
        let worker = try XCTUnwrap(report.processes.first { $0.role == "worker" })
        // Restarts at 0, 1, 2 s... : a handful in these seconds, not thousands.
        XCTAssertLessThanOrEqual(worker.restarts, 6)
        XCTAssertGreaterThanOrEqual(report.exitsByRole["worker"]?["exit 64"] ?? 0, 3)
        XCTAssertEqual(report.processesByRole["gateway"], 1, "the gateway is untouched")
    }

    func testAnInvalidConfigurationIsRefusedNamingTheKey() throws {
        cluster = try SupervisedCluster(configuration: ["gateway": ["count": 1, "router": "fastest"]])
        let refused = try cluster.command(["start"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("configuration key 'gateway.router' has the value \"fastest\"; allowed: sticky"), refused.output)

        try cluster.writeConfiguration(["gateway": ["count": 1, "lanPort": 2900]])
        let unknown = try cluster.command(["start"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.output.contains("unknown configuration key in \(cluster.configPath): 'gateway.lanPort'"), unknown.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cluster.runDirectory.pidFile))
    }

    /// Seconds between the supervisor's lines "<worker> (pid N) ended" and "started <worker> pid=M".
    private func respawnDelay(in log: String, ended: Int32, started: Int32) throws -> Double {
        func time(of marker: String) throws -> Date {
            let line = try XCTUnwrap(log.split(separator: "\n").first { $0.contains(marker) }, "no line with \(marker) in:\n\(log)")
            let stamp = String(line.split(separator: " ")[0])
            return try XCTUnwrap(try? Date(stamp, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)), stamp)
        }
        return try time(of: "started worker-0 pid=\(started)").timeIntervalSince(time(of: "(pid \(ended)) ended"))
    }
}
