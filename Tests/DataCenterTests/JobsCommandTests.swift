import ClusterTesting
import DataCenterProtocol
import Foundation
import Registry
import XCTest

/// `datacentered jobs` against a real cluster, with a test client playing the agent.
final class JobsCommandTests: DataCenterTestCase {
    private func jobsCommand(_ arguments: [String]) -> Task<CommandRunner.Outcome, any Error> {
        let binary = TestCluster.binaryPath
        let gateway = "ws://127.0.0.1:\(dataCenter.gateway.publicPort)/"
        let token = dataCenter.operatorToken
        return Task.detached {
            try CommandRunner.run(
                binary, ["jobs"] + arguments + ["--gateway", gateway], environment: ["DATACENTERED_TOKEN": token], timeout: .seconds(40))
        }
    }

    func testRunStreamsOutputAndExitsWithTheJobStatus() async throws {
        dataCenter = try DataCenterTestCluster()
        let agent = try await dataCenter.agent()
        let command = jobsCommand(["run", "node-1", "vps.restart", "vps=vps101"])
        let (startID, start) = try await agent.incomingRequest(.jobStart, as: JobStartRequest.self, timeout: .seconds(30))
        XCTAssertEqual(start.params, ["vps": "vps101"])
        try await agent.reply(to: startID, JobStateReply(state: .running))
        let chunks = [
            OutputChunk(job: start.job, seq: 0, stream: .stdout, data: "stopping vps101\n"),
            OutputChunk(job: start.job, seq: 1, stream: .stderr, data: "warning: slow\n"),
            OutputChunk(job: start.job, seq: 2, stream: .stdout, data: "started vps101\n"),
        ]
        for chunk in chunks { _ = try await agent.call(.jobOutput, chunk, as: EmptyPayload.self) }
        _ = try await agent.call(.jobFinished, JobFinished(job: start.job, state: .failed, exitCode: 3, durationMs: 7), as: EmptyPayload.self)

        let outcome = try await command.value
        XCTAssertEqual(outcome.status, 3, outcome.output)
        XCTAssertEqual(outcome.standardOutput, "stopping vps101\nstarted vps101\n")
        XCTAssertTrue(outcome.standardError.contains("warning: slow\n"), outcome.standardError)

        let listed = try await jobsCommand(["list", "--host", "node-1"]).value
        XCTAssertEqual(listed.status, 0, listed.output)
        XCTAssertTrue(listed.standardOutput.contains("\(start.job)\tnode-1\tvps.restart\tfailed\t3\talice"), listed.output)
        let hosts = try await jobsCommand(["hosts"]).value
        XCTAssertTrue(hosts.standardOutput.contains("node-1\tonline"), hosts.output)
    }

    /// The gateway restarts while `jobs run` streams a job: the command connects again and prints
    /// every chunk once, in order, including those sent while it was away, then exits with the job's status.
    func testRunSurvivesAGatewayRestartMidJob() async throws {
        dataCenter = try DataCenterTestCluster()
        let before = try await dataCenter.agent()
        let command = jobsCommand(["run", "node-1", "vps.restart", "vps=vps101"])
        let (startID, start) = try await before.incomingRequest(.jobStart, as: JobStartRequest.self, timeout: .seconds(30))
        try await before.reply(to: startID, JobStateReply(state: .running))
        let lines = (0..<6).map { "line \($0)\n" }
        for seq in 0..<3 {
            _ = try await before.call(.jobOutput, OutputChunk(job: start.job, seq: seq, stream: .stdout, data: lines[seq]), as: EmptyPayload.self)
        }
        // The command streams the job (its jobs.run started it) when the gateway goes.
        let gateway = dataCenter.gateway
        gateway.process.kill()
        try gateway.process.start()
        try gateway.process.waitForOutput(containing: "gateway registered in memcached", times: 2, timeout: .seconds(20))
        try dataCenter.workers[0].waitForOutput(containing: "linked to gateway \(gateway.lanAddress)", times: 2, timeout: .seconds(20))

        let after = try await dataCenter.agent()
        for seq in 3..<6 {
            _ = try await after.call(.jobOutput, OutputChunk(job: start.job, seq: seq, stream: .stdout, data: lines[seq]), as: EmptyPayload.self)
        }
        _ = try await after.call(.jobFinished, JobFinished(job: start.job, state: .failed, exitCode: 3, durationMs: 7), as: EmptyPayload.self)
        let outcome = try await command.value
        XCTAssertEqual(outcome.status, 3, outcome.output)
        XCTAssertEqual(outcome.standardOutput, lines.joined(), outcome.output)
    }

    /// `jobs run` follows a job queued for an offline host; its record vanishes (expired, or lost with
    /// memcached) and the gateway restarts: watching it again on the new connection finds it gone, and
    /// the command ends with `not_found` instead of waiting for ever.
    func testRunOfAJobWhoseRecordVanishesEndsWithNotFound() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        await (try dataCenter.agent()).close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        // Its own process, whose output can be read while it runs: it says the job's id once it follows it.
        let command = try ManagedProcess(
            executable: TestCluster.binaryPath, arguments: ["jobs", "run", "node-1", "uptime", "--gateway", "ws://127.0.0.1:\(dataCenter.gateway.publicPort)/"],
            environment: ["DATACENTERED_TOKEN": dataCenter.operatorToken])
        addTeardownBlock { command.kill() }
        try command.waitForOutput(containing: " queued on node-1", timeout: .seconds(30))
        let line = try XCTUnwrap(command.output.split(separator: "\n").first { $0.hasSuffix(" queued on node-1") })
        let job = String(line.split(separator: " ")[1])
        let memcached = try MemcachedClient(configuration: MemcachedConfiguration(servers: [dataCenter.cluster.memcached.address]))
        addTeardownBlock { await memcached.shutdown() }
        let deleted = try await GlobalData(client: memcached).delete("dc.job:\(job)")
        XCTAssertTrue(deleted, "no record of \(job)")

        let gateway = dataCenter.gateway
        gateway.process.kill()
        try gateway.process.start()
        let status = try command.waitForExit(timeout: .seconds(40))
        XCTAssertNotEqual(status, 0, command.output)
        XCTAssertTrue(command.output.contains("not_found"), command.output)
    }

    func testTimersAreAddedListedAndRemoved() async throws {
        dataCenter = try DataCenterTestCluster()
        let agent = try await dataCenter.agent()
        let add = jobsCommand(["timers", "add", "node-1", "restart-101", "60", "vps.restart", "vps=vps101", "mode=soft"])
        let (addID, timer) = try await agent.incomingRequest(.timerAdd, as: TimerSpec.self, timeout: .seconds(30))
        XCTAssertEqual(timer, TimerSpec(name: "restart-101", action: "vps.restart", params: ["vps": "vps101", "mode": "soft"], everySeconds: 60))
        try await agent.reply(to: addID, EmptyPayload())
        let added = try await add.value
        XCTAssertEqual(added.status, 0, added.output)
        XCTAssertTrue(added.standardOutput.contains("restart-101\t60s\tvps.restart\tmode=soft vps=vps101"), added.output)

        let remove = jobsCommand(["timers", "remove", "node-1", "restart-101"])
        let (removeID, _) = try await agent.incomingRequest(.timerRemove, as: TimerQuery.self, timeout: .seconds(30))
        try await agent.sendRaw(Envelope.reply(to: removeID, error: ProtocolError(.notFound, "no timer restart-101 on this host")))
        let removed = try await remove.value
        XCTAssertNotEqual(removed.status, 0)
        XCTAssertTrue(removed.standardError.contains("not_found"), removed.output)
    }

    func testATimerAddedForAnOfflineHostIsShownQueued() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        await (try dataCenter.agent()).close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        let added = try await jobsCommand(["timers", "add", "node-1", "nightly", "86400", "uptime"]).value
        XCTAssertEqual(added.status, 0, added.output)
        XCTAssertTrue(added.standardOutput.contains("nightly\t86400s\tuptime"), added.output)
        XCTAssertTrue(added.standardOutput.contains("the change is queued and applied when its agent connects"), added.output)
        let listed = try await jobsCommand(["timers", "list", "node-1"]).value
        XCTAssertTrue(listed.standardOutput.contains("pending: add nightly (alice, "), listed.output)
    }

    func testRefusedRunAndWrongTokenFailClearly() async throws {
        dataCenter = try DataCenterTestCluster()
        _ = try await dataCenter.agent()
        let refused = try await jobsCommand(["run", "node-1", "rm"]).value
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.standardError.contains("forbidden"), refused.output)
        let unknown = try await jobsCommand(["cancel", "j-0000000000000000"]).value
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.standardError.contains("not_found"), unknown.output)

        let binary = TestCluster.binaryPath
        let started = ContinuousClock.now
        let wrong = try CommandRunner.run(
            binary, ["jobs", "hosts", "--connect-timeout", "5", "--gateway", "ws://127.0.0.1:\(dataCenter.gateway.publicPort)/"],
            environment: ["DATACENTERED_TOKEN": "dct_wrong"], timeout: .seconds(40))
        XCTAssertNotEqual(wrong.status, 0)
        // DataCenterClient does not always log the refusal's code when the close follows it at once.
        XCTAssertTrue(wrong.standardError.contains("auth_failed") || wrong.standardError.contains("not authenticated"), wrong.output)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(20), "a refused token kept the command waiting")
    }
}
