import ClusterTesting
import Foundation
import XCTest

/// Host agents against a real cluster running the central handler: memcached, gateways, a worker
/// with `--handler datacenter`, `datacentered agent` processes, and an operator on a WebSocket.
final class AgentEndToEndTests: XCTestCase {
    /// The chunks the central side kept for `job`, checked to be each seq exactly once from 0.
    private func output(of job: String, _ console: OperatorConsole) async throws -> (stdout: String, stderr: String) {
        let detail = try await console.call("jobs.show", ["job": job])
        let chunks = detail["output"] as? [[String: Any]] ?? []
        let sequence = chunks.compactMap { $0["seq"] as? Int }
        XCTAssertEqual(sequence.sorted(), Array(0..<chunks.count), "every chunk exactly once")
        let ordered = chunks.sorted { ($0["seq"] as? Int ?? 0) < ($1["seq"] as? Int ?? 0) }
        func text(_ stream: String) -> String {
            ordered.filter { $0["stream"] as? String == stream }.compactMap { $0["data"] as? String }.joined()
        }
        return (text("stdout"), text("stderr"))
    }

    private func run(_ console: OperatorConsole, host: String, _ action: String, _ params: [String: String] = [:], extra: [String: Any] = [:]) async throws -> String {
        var data: [String: Any] = ["host": host, "action": action, "params": params]
        data.merge(extra) { $1 }
        let reply = try await console.call("jobs.run", data)
        guard let id = (reply["job"] as? [String: Any])?["id"] as? String else { throw OperatorConsole.Failure(description: "jobs.run gave no job id") }
        return id
    }

    func testTwoAgentsReportAndAChangedInventoryIsResentAnUnchangedOneNot() async throws {
        let bed = try DataCenterTestBed(hosts: ["node-a", "node-b"])
        let domains = bed.directory + "/domains"
        try "vm101 running\n".write(toFile: domains, atomically: true, encoding: .utf8)
        let agentA = try bed.startAgent(host: "node-a", environment: ["FAKE_VIRSH_DOMAINS": domains])
        let agentB = try bed.startAgent(host: "node-b")
        let console = try await bed.console()

        for (host, agent) in [("node-a", agentA), ("node-b", agentB)] {
            var last: [String: Any]?
            try await waitUntil("\(host) has reported host-info, cpu and bandwidth", diagnostics: { "\(last ?? [:])\n\(agent.logTail(lines: 40))\n\(bed.worker.logTail(lines: 40))" }) {
                let state = try await console.call("hosts.show", ["host": host])["host"] as? [String: Any]
                last = state
                return state?["info"] != nil && state?["cpu"] != nil && state?["bandwidth"] != nil && state?["online"] as? Bool == true
            }
        }
        let shown = try await console.call("hosts.show", ["host": "node-a"])["host"] as? [String: Any]
        let kernel = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual((shown?["info"] as? [String: Any])?["kernel"] as? String, kernel, "read from this machine's /proc")
        XCTAssertEqual((shown?["vps"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["vm101"])
        XCTAssertEqual((shown?["ipMap"] as? [String: String])?["192.168.122.10"], "vm101")

        // Unchanged: read several times, sent once (at connect).
        try agentA.waitForOutput(containing: "inventory sent: 1 VPS", timeout: .seconds(10))
        try await waitUntil("three more inventory reads") { agentA.output.components(separatedBy: "inventory read: 1 VPS, unchanged").count > 3 }
        XCTAssertEqual(agentA.output.components(separatedBy: "inventory sent:").count - 1, 1, "an unchanged inventory is not resent")

        // Changed: resent, and the central side has it.
        try "vm101 running\nvm103 running\n".write(toFile: domains, atomically: true, encoding: .utf8)
        try await waitUntil("the central side has the new domain") {
            let state = try await console.call("hosts.show", ["host": "node-a"])["host"] as? [String: Any]
            return (state?["vps"] as? [[String: Any]])?.count == 2
        }
        XCTAssertEqual(agentA.output.components(separatedBy: "inventory sent:").count - 1, 2)
        await console.close()
    }

    func testJobsStreamOutputInOrderWithExitStatusStdinCancelAndTimeout() async throws {
        let bed = try DataCenterTestBed(hosts: ["node-a"])
        let agent = try bed.startAgent(host: "node-a")
        let console = try await bed.console()
        try await waitUntil("node-a's actions are known") { (try await console.call("actions.list", ["host": "node-a"])["actions"] as? [Any])?.count == 4 }

        // Output in order, exact exit status.
        let numbered = try await run(console, host: "node-a", "numbered", ["count": "5", "sleep": "0", "code": "3"])
        let ended = try await console.waitForJobEnd(numbered)
        XCTAssertEqual(ended["state"] as? String, "failed")
        XCTAssertEqual(ended["exitCode"] as? Int, 3)
        let text = try await output(of: numbered, console)
        XCTAssertEqual(text.stdout, "out 1\nout 2\nout 3\nout 4\nout 5\ndone\n")
        XCTAssertEqual(text.stderr, "err 1\nerr 2\nerr 3\nerr 4\nerr 5\n")

        // Stdin.
        let cat = try await run(console, host: "node-a", "cat", extra: ["stdin": "from the operator\n"])
        let catEnded = try await console.waitForJobEnd(cat)
        XCTAssertEqual(catEnded["state"] as? String, "done")
        let catOutput = try await output(of: cat, console)
        XCTAssertEqual(catOutput.stdout, "from the operator\n")

        // Cancel.
        let long = try await run(console, host: "node-a", "numbered", ["count": "1", "sleep": "30", "code": "0"])
        _ = try await console.waitForEvent("job.output") { $0["job"] as? String == long }
        try await console.call("jobs.cancel", ["job": long])
        let cancelled = try await console.waitForJobEnd(long, timeout: .seconds(15))
        XCTAssertEqual(cancelled["state"] as? String, "cancelled")
        XCTAssertEqual(cancelled["signal"] as? Int, 15)

        // Timeout.
        let slow = try await run(console, host: "node-a", "numbered", ["count": "1", "sleep": "30", "code": "0"], extra: ["timeoutSeconds": 1])
        let timedOut = try await console.waitForJobEnd(slow, timeout: .seconds(20))
        XCTAssertEqual(timedOut["state"] as? String, "timed_out")

        // Refused: not on the allow-list, a parameter that fails validation.
        let forbidden = try await console.errorCode("jobs.run", ["host": "node-a", "action": "rm", "params": ["path": "/"]])
        XCTAssertEqual(forbidden, "forbidden")
        let badName = try await console.errorCode("jobs.run", ["host": "node-a", "action": "vps.echo", "params": ["vps": "../vm1"]])
        XCTAssertEqual(badName, "bad_request")
        // "-rf" looks like a host name but not like a VPS name: the central side checks with the agent's
        // own validator, so it is refused before anything reaches the agent.
        let optionLike = try await console.errorCode("jobs.run", ["host": "node-a", "action": "vps.echo", "params": ["vps": "-rf"]])
        XCTAssertEqual(optionLike, "bad_request")
        XCTAssertFalse(agent.output.contains(": vps.echo"), "nothing of vps.echo was offered to the agent")
        await console.close()
    }

    /// Two gateways, node-a's agent on one of them (its index), and an operator on the other.
    private func agentOnOneOfTwoGateways() async throws -> (bed: DataCenterTestBed, agent: ManagedProcess, connectedTo: Int, console: OperatorConsole) {
        let bed = try DataCenterTestBed(gateways: 2, hosts: ["node-a"])
        let agent = try bed.startAgent(host: "node-a", gatewayIndexes: [0, 1])
        let connectedTo = try XCTUnwrap(
            bed.gateways.firstIndex { agent.output.contains("connected to gateway ws://127.0.0.1:\($0.publicPort)/") },
            "the agent names the gateway it connected to")
        let console = try await bed.console(gateway: 1 - connectedTo)
        try await waitUntil("node-a's actions are known") { (try await console.call("actions.list", ["host": "node-a"])["actions"] as? [Any])?.count == 4 }
        return (bed, agent, connectedTo, console)
    }

    func testAnAgentCutOffMidJobReconnectsToTheOtherGatewayAndEveryChunkArrivesOnce() async throws {
        let (bed, agent, connectedTo, console) = try await agentOnOneOfTwoGateways()
        let other = 1 - connectedTo

        let job = try await run(console, host: "node-a", "ticker", ["count": "40", "interval": "0.05"])
        _ = try await console.waitForEvent("job.output") { $0["job"] as? String == job }
        bed.gateways[connectedTo].process.kill()
        try agent.waitForOutput(containing: "connected to gateway ws://127.0.0.1:\(bed.gateways[other].publicPort)/", timeout: .seconds(20))

        let ended = try await console.waitForJobEnd(job, timeout: .seconds(30))
        XCTAssertEqual(ended["state"] as? String, "done")
        try await waitUntil("every chunk is in") { try await output(of: job, console).stdout.hasSuffix("tick 40\n") }
        let kept = try await output(of: job, console)
        XCTAssertEqual(kept.stdout, (1...40).map { "tick \($0)\n" }.joined())
        XCTAssertEqual(agent.output.components(separatedBy: "job \(job) started").count - 1, 1, "a job offered again after the reconnect is not run twice")
        await console.close()
    }

    func testACancelAskedWhileTheAgentIsCutOffReachesItWhenItIsBack() async throws {
        let (bed, agent, connectedTo, console) = try await agentOnOneOfTwoGateways()
        let other = 1 - connectedTo
        let job = try await run(console, host: "node-a", "numbered", ["count": "1", "sleep": "30", "code": "0"])
        _ = try await console.waitForEvent("job.output") { $0["job"] as? String == job }

        // Cut off: the agent stopped and its gateway gone, so the central side has it offline.
        try agent.freeze()
        defer { agent.thaw() }
        bed.gateways[connectedTo].process.kill()
        _ = try await console.waitForEvent("host.offline") { $0["host"] as? String == "node-a" }
        let asked = try await console.call("jobs.cancel", ["job": job])
        XCTAssertNotNil((asked["job"] as? [String: Any])?["cancelRequestedAt"], "\(asked)")

        agent.thaw()
        try agent.waitForOutput(containing: "connected to gateway ws://127.0.0.1:\(bed.gateways[other].publicPort)/", timeout: .seconds(20))
        let ended = try await console.waitForJobEnd(job, timeout: .seconds(20))
        XCTAssertEqual(ended["state"] as? String, "cancelled")
        XCTAssertEqual(ended["signal"] as? Int, 15)
        await console.close()
    }

    func testATimerAddedThroughTheCentralSideRunsOnTheAgentAsJobsUntilRemoved() async throws {
        let bed = try DataCenterTestBed(hosts: ["node-a"])
        let agent = try bed.startAgent(host: "node-a")
        let console = try await bed.console()
        try await waitUntil("node-a's actions are known") { (try await console.call("actions.list", ["host": "node-a"])["actions"] as? [Any])?.count == 4 }

        let refused = try await console.errorCode("timers.add", ["host": "node-a", "name": "t", "action": "rm", "everySeconds": 1])
        XCTAssertEqual(refused, "forbidden")
        let params = ["count": "1", "sleep": "0", "code": "4"]
        let added = try await console.call("timers.add", ["host": "node-a", "name": "tick", "action": "numbered", "params": params, "everySeconds": 1])
        XCTAssertEqual((added["timers"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["tick"])
        XCTAssertTrue(agent.output.contains("timer tick added: numbered every 1 s"), "the agent itself has the timer")

        // Each run is a job: its record, its output and its exit status, like any other.
        let run = try await console.waitForEvent("job.state", timeout: .seconds(20)) { data in
            let record = data["job"] as? [String: Any]
            return record?["requestedBy"] as? String == "timer:tick" && record?["state"] as? String == "failed"
        }
        let record = try XCTUnwrap(run["job"] as? [String: Any])
        XCTAssertEqual(record["action"] as? String, "numbered")
        XCTAssertEqual(record["params"] as? [String: String], params)
        XCTAssertEqual(record["exitCode"] as? Int, 4)
        XCTAssertEqual(record["timeoutSeconds"] as? Int, 600, "the agent's default timeout, as it announced it for the action")
        let job = try XCTUnwrap(record["id"] as? String)
        XCTAssertTrue(job.hasPrefix("timer.tick."), job)
        let text = try await output(of: job, console)
        XCTAssertEqual(text.stdout, "out 1\ndone\n")
        XCTAssertEqual(text.stderr, "err 1\n")

        let listed = try await console.call("timers.list", ["host": "node-a"])
        XCTAssertEqual((listed["timers"] as? [[String: Any]])?.first?["everySeconds"] as? Int, 1)
        let removed = try await console.call("timers.remove", ["host": "node-a", "name": "tick"])
        XCTAssertEqual((removed["timers"] as? [Any])?.count, 0)
        let listedAfter = try await console.call("timers.list", ["host": "node-a"])
        XCTAssertEqual((listedAfter["timers"] as? [Any])?.count, 0)
        let unknown = try await console.errorCode("timers.remove", ["host": "node-a", "name": "tick"])
        XCTAssertEqual(unknown, "not_found")
        await console.close()
    }

    /// Timer changes asked while the agent is stopped are queued by one worker and applied by the other
    /// when the agent starts again: the last change of each timer, once, on top of the timers the agent kept.
    func testTimerChangesAskedWhileTheAgentIsStoppedAreAppliedOnceWhenItIsBack() async throws {
        let bed = try DataCenterTestBed(workers: 2, hosts: ["node-a"])
        let agent = try bed.startAgent(host: "node-a")
        let console = try await bed.console()
        try await waitUntil("node-a's actions are known") { (try await console.call("actions.list", ["host": "node-a"])["actions"] as? [Any])?.count == 4 }
        func names(_ reply: [String: Any]) -> [String] { (reply["timers"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } }
        func add(_ name: String, vps: String, every: Int) async throws -> [String: Any] {
            try await console.call("timers.add", ["host": "node-a", "name": name, "action": "vps.echo", "params": ["vps": vps], "everySeconds": every])
        }
        _ = try await add("gone", vps: "vm1", every: 3600)
        _ = try await add("changed", vps: "vm2", every: 3600)

        agent.terminate()
        _ = try await console.waitForEvent("host.offline") { $0["host"] as? String == "node-a" }
        let removed = try await console.call("timers.remove", ["host": "node-a", "name": "gone"])
        XCTAssertEqual(removed["queued"] as? Bool, true, "\(removed)")
        _ = try await add("changed", vps: "vm2", every: 1800)
        _ = try await add("fresh", vps: "vm3", every: 3600)
        _ = try await add("brief", vps: "vm4", every: 3600)
        _ = try await console.call("timers.remove", ["host": "node-a", "name": "brief"])
        let forbidden = try await console.errorCode("timers.add", ["host": "node-a", "name": "x", "action": "rm", "everySeconds": 5])
        XCTAssertEqual(forbidden, "forbidden")
        let offline = try await console.call("timers.list", ["host": "node-a"])
        XCTAssertEqual(names(offline), ["changed", "fresh"])
        let pending = offline["pending"] as? [[String: Any]] ?? []
        XCTAssertEqual(pending.compactMap { $0["change"] as? String }, ["remove", "add", "add", "remove"])
        XCTAssertEqual(pending.compactMap { $0["name"] as? String }, ["gone", "changed", "fresh", "brief"])

        try agent.start()
        try agent.waitForOutput(containing: "connected to gateway", times: 2, timeout: .seconds(20))
        // Online, timers.list is the agent's own answer.
        func applied() async throws -> Bool {
            let listed = try await console.call("timers.list", ["host": "node-a"])
            let periods = (listed["timers"] as? [[String: Any]] ?? []).compactMap { $0["everySeconds"] as? Int }
            return names(listed) == ["changed", "fresh"] && periods == [1800, 3600] && listed["pending"] == nil
        }
        try await waitUntil("the agent has applied the last change of each timer") { try await applied() }
        // Started again, the agent announces the timers it kept on disk: nothing is sent to it twice.
        agent.terminate()
        _ = try await console.waitForEvent("host.offline") { $0["host"] as? String == "node-a" }
        try agent.start()
        try agent.waitForOutput(containing: "connected to gateway", times: 3, timeout: .seconds(20))
        try await waitUntil("the agent answers with the timers it kept") { try await applied() }
        let log = agent.output
        for (line, count) in [
            ("timer gone removed", 1), ("timer changed added: vps.echo every 1800 s", 1), ("timer fresh added", 1), ("timer brief", 0),
        ] {
            XCTAssertEqual(log.components(separatedBy: line).count - 1, count, line)
        }
        let workersThatSent = bed.workers.filter { $0.output.contains("queued timer changes sent") }
        XCTAssertEqual(workersThatSent.count, 1, "one worker delivers the queue")
        await console.close()
    }

    /// Polls `condition` until it holds (bounded): for state that the cluster reaches asynchronously.
    private func waitUntil(
        _ what: String, timeout: Duration = .seconds(20), diagnostics: () -> String = { "" }, _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTFail("timed out waiting until \(what)\n\(diagnostics())")
        throw OperatorConsole.Failure(description: "timed out waiting until \(what)")
    }
}
