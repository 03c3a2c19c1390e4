import ClusterTesting
import DataCenterProtocol
import XCTest

/// Jobs end to end, with a test client playing the agent: queueing, delivery, output, cancel, loss.
final class JobTests: DataCenterTestCase {
    /// Runs `uptime` on node-1 and has the test agent accept it; returns the job once it is running.
    private func runningJob(_ person: EnvelopeTestClient, _ agent: EnvelopeTestClient, timeoutSeconds: Int? = nil) async throws -> JobRecord {
        let job = try await person.call(.jobsRun, JobsRunRequest(host: "node-1", action: "uptime", timeoutSeconds: timeoutSeconds), as: JobReply.self).job
        let (startID, _) = try await agent.incomingRequest(.jobStart, as: JobStartRequest.self)
        try await agent.reply(to: startID, JobStateReply(state: .running))
        _ = try await person.jobState(job.id, .running)
        return job
    }

    func testJobQueuedOfflineRunsOnConnectAndStreamsOutputOnceInOrder() async throws {
        dataCenter = try DataCenterTestCluster()
        // The host is known (it authenticated once) but offline when the job is asked for.
        let person = try await dataCenter.operatorClient()
        await (try await dataCenter.agent()).close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)

        let run = JobsRunRequest(host: "node-1", action: "vps.restart", params: ["vps": "vps101"], stdin: "yes\n", timeoutSeconds: 60)
        let queued = try await person.call(.jobsRun, run, as: JobReply.self).job
        XCTAssertEqual(queued.state, .queued)
        XCTAssertEqual(queued.requestedBy, "alice")

        let agent = try await dataCenter.agent()
        let (startID, start) = try await agent.incomingRequest(.jobStart, as: JobStartRequest.self)
        XCTAssertEqual(start, JobStartRequest(job: queued.id, action: "vps.restart", params: ["vps": "vps101"], stdin: "yes\n", timeoutSeconds: 60))
        try await agent.reply(to: startID, JobStateReply(state: .running))
        _ = try await person.jobState(queued.id, .running)

        let chunks = (0..<3).map { OutputChunk(job: queued.id, seq: $0, stream: $0 == 1 ? .stderr : .stdout, data: "line \($0)\n") }
        for chunk in [chunks[0], chunks[1], chunks[1], chunks[2]] {
            _ = try await agent.call(.jobOutput, chunk, as: EmptyPayload.self)
        }
        for expected in chunks {
            let streamed = try await person.event(.jobOutput, as: OutputChunk.self)
            XCTAssertEqual(streamed, expected)
        }
        let duplicate = await person.receivesNothing(within: .milliseconds(300)) { $0.kind == .event(name: "job.output") }
        XCTAssertTrue(duplicate, "a repeated chunk reached the watcher twice")

        let finished = JobFinished(job: queued.id, state: .done, exitCode: 0, durationMs: 42)
        _ = try await agent.call(.jobFinished, finished, as: EmptyPayload.self)
        _ = try await agent.call(.jobFinished, finished, as: EmptyPayload.self)  // sent again after a reconnect: acknowledged
        let done = try await person.jobState(queued.id, .done)
        XCTAssertEqual(done.exitCode, 0)
        XCTAssertEqual(done.durationMs, 42)

        let shown = try await person.call(.jobsShow, JobQuery(job: queued.id), as: JobDetailReply.self)
        XCTAssertEqual(shown.output, chunks)
        XCTAssertEqual(shown.job.outputBytes, chunks.map(\.data.utf8.count).reduce(0, +))
        let listed = try await person.call(.jobsList, JobsListRequest(host: "node-1"), as: JobsListReply.self).jobs
        XCTAssertEqual(listed.map(\.id), [queued.id])
    }

    func testOutputOfManyChunksIsReadWholeAndDuplicatesStillDropped() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()
        let job = try await runningJob(person, agent)
        // Past the first page of chunk numbers (8) and the next (64), one chunk sent twice, one out of order.
        let chunks = (0..<75).map { OutputChunk(job: job.id, seq: $0, stream: .stdout, data: "line \($0)\n") }
        for chunk in chunks[0..<70] + [chunks[5], chunks[71], chunks[70]] + chunks[72...] {
            _ = try await agent.call(.jobOutput, chunk, as: EmptyPayload.self)
        }
        _ = try await agent.call(.jobFinished, JobFinished(job: job.id, state: .done, exitCode: 0, durationMs: 7), as: EmptyPayload.self)
        let shown = try await person.call(.jobsShow, JobQuery(job: job.id), as: JobDetailReply.self)
        XCTAssertEqual(shown.output, chunks)
        XCTAssertEqual(shown.job.outputBytes, chunks.map(\.data.utf8.count).reduce(0, +))
    }

    func testRefusedActionsAndParameters() async throws {
        dataCenter = try DataCenterTestCluster()
        let agent = try await dataCenter.agent()
        let person = try await dataCenter.operatorClient()
        let notAllowed = try await person.failure(.jobsRun, JobsRunRequest(host: "node-1", action: "rm"))
        XCTAssertEqual(notAllowed.code, .forbidden)
        let badParameter = try await person.failure(.jobsRun, JobsRunRequest(host: "node-1", action: "vps.restart", params: ["vps": "a b; rm -rf /"]))
        XCTAssertEqual(badParameter.code, .badRequest)
        let badEnum = try await person.failure(.jobsRun, JobsRunRequest(host: "node-1", action: "vps.restart", params: ["vps": "v1", "mode": "nuke"]))
        XCTAssertEqual(badEnum.code, .badRequest)
        let noHost = try await person.failure(.jobsRun, JobsRunRequest(host: "node-9", action: "uptime"))
        XCTAssertEqual(noHost.code, .notFound)
        let nothingSent = await agent.receivesNothing(within: .milliseconds(300)) { _ in true }
        XCTAssertTrue(nothingSent)
    }

    func testCancelQueuedAndRunningJobs() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        await (try await dataCenter.agent()).close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)

        let queued = try await person.call(.jobsRun, JobsRunRequest(host: "node-1", action: "uptime"), as: JobReply.self).job
        let cancelled = try await person.call(.jobsCancel, JobQuery(job: queued.id), as: JobReply.self).job
        XCTAssertEqual(cancelled.state, .cancelled)
        let again = try await person.failure(.jobsCancel, JobQuery(job: queued.id))
        XCTAssertEqual(again.code, .conflict)

        let agent = try await dataCenter.agent()
        let running = try await person.call(.jobsRun, JobsRunRequest(host: "node-1", action: "uptime"), as: JobReply.self).job
        let (startID, start) = try await agent.incomingRequest(.jobStart, as: JobStartRequest.self)
        XCTAssertEqual(start.job, running.id, "the cancelled job was offered to the agent")
        try await agent.reply(to: startID, JobStateReply(state: .running))
        _ = try await person.jobState(running.id, .running)

        _ = try await person.call(.jobsStdin, JobStdinRequest(job: running.id, data: "more\n", eof: true), as: EmptyPayload.self)
        let stdinRequest = try await agent.incomingRequest(.jobStdin, as: JobStdinRequest.self).data
        XCTAssertEqual(stdinRequest, JobStdinRequest(job: running.id, data: "more\n", eof: true))

        _ = try await person.call(.jobsCancel, JobQuery(job: running.id), as: JobReply.self)
        let (cancelID, cancel) = try await agent.incomingRequest(.jobCancel, as: JobQuery.self)
        XCTAssertEqual(cancel.job, running.id)
        try await agent.reply(to: cancelID, JobStateReply(state: .running))
        _ = try await agent.call(.jobFinished, JobFinished(job: running.id, state: .cancelled, signal: 15, durationMs: 5), as: EmptyPayload.self)
        let ended = try await person.jobState(running.id, .cancelled)
        XCTAssertEqual(ended.signal, 15)
    }

    func testACancelWhileTheHostIsOfflineReachesItsAgentWhenItConnectsAgain() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()
        let job = try await runningJob(person, agent)
        await agent.close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)

        // Standard input is not kept for later: refused while the host is offline.
        let stdin = try await person.failure(.jobsStdin, JobStdinRequest(job: job.id, data: "more\n"))
        XCTAssertEqual(stdin.code, .notOnline)

        // Accepted and recorded, not refused with not_online.
        let asked = try await person.call(.jobsCancel, JobQuery(job: job.id), as: JobReply.self).job
        XCTAssertEqual(asked.state, .running)
        XCTAssertNotNil(asked.cancelRequestedAt)
        let shown = try await person.call(.jobsShow, JobQuery(job: job.id), as: JobDetailReply.self)
        XCTAssertEqual(shown.job.cancelRequestedAt, asked.cancelRequestedAt)

        let back = try await dataCenter.agent()
        let (cancelID, cancel) = try await back.incomingRequest(.jobCancel, as: JobQuery.self)
        XCTAssertEqual(cancel.job, job.id)
        try await back.reply(to: cancelID, JobStateReply(state: .cancelled))
        _ = try await back.call(.jobFinished, JobFinished(job: job.id, state: .cancelled, signal: 15, durationMs: 5), as: EmptyPayload.self)
        let ended = try await person.jobState(job.id, .cancelled)
        XCTAssertEqual(ended.signal, 15)

        // Once the job has ended, a later connect gets no cancel.
        await back.close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        let third = try await dataCenter.agent()
        let noCancel = await third.receivesNothing(within: .milliseconds(500)) { message in
            if case .request(_, OperationName.jobCancel.rawValue) = message.kind { return true } else { return false }
        }
        XCTAssertTrue(noCancel, "a delivered cancel of an ended job was sent again")
    }

    func testAJobThatNamesNoTimeoutGetsTheOneItsAgentAnnouncedForTheAction() async throws {
        dataCenter = try DataCenterTestCluster()
        let actions = [ActionSpec(name: "backup", timeoutSeconds: 7200), ActionSpec(name: "forever", timeoutSeconds: 10_000_000), ActionSpec(name: "uptime")]
        let agent = try await dataCenter.agent(actions: actions)
        let person = try await dataCenter.operatorClient()
        for (action, expected) in [("backup", 7200), ("forever", 86_400), ("uptime", 300)] {
            let job = try await person.call(.jobsRun, JobsRunRequest(host: "node-1", action: action), as: JobReply.self).job
            XCTAssertEqual(job.timeoutSeconds, expected, action)
            let start = try await agent.incomingRequest(.jobStart, as: JobStartRequest.self).data
            XCTAssertEqual(start.timeoutSeconds, expected, action)
        }
    }

    func testTheJobsRunningOnAnAgentAreAskedOfTheAgent() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()
        let asked = try await person.post(.jobsRunning, HostQuery(host: "node-1"))
        let (id, _) = try await agent.incomingRequest(.jobsRunning, as: EmptyPayload.self)
        try await agent.reply(to: id, RunningJobsReply(jobs: ["j-00000000000000aa", "timer.t.1500"]))
        let running = try await person.replyTo(asked).payload(RunningJobsReply.self)
        XCTAssertEqual(running.jobs, ["j-00000000000000aa", "timer.t.1500"])

        let unknown = try await person.failure(.jobsRunning, HostQuery(host: "node-9"))
        XCTAssertEqual(unknown.code, .notFound)
        let byAgent = try await agent.failure(.jobsRunning, HostQuery(host: "node-1"))
        XCTAssertEqual(byAgent.code, .forbidden)
    }

    func testRunningJobOfAVanishedAgentIsLostAfterTimeoutAndGrace() async throws {
        dataCenter = try DataCenterTestCluster(sweepInterval: 0.5, jobGrace: 1)
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()
        let job = try await runningJob(person, agent, timeoutSeconds: 1)
        await agent.abort()

        let lost = try await person.jobState(job.id, .lost, timeout: .seconds(15))
        XCTAssertNotNil(lost.endedAt)
    }

    func testAJobTheAgentReportsLostAfterItsOwnRestartEndsLost() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()
        let job = try await runningJob(person, agent)

        _ = try await agent.call(.jobFinished, JobFinished(job: job.id, state: .lost, durationMs: 40), as: EmptyPayload.self)
        let lost = try await person.jobState(job.id, .lost)
        XCTAssertEqual(lost.durationMs, 40)
    }

    /// A job offered again (after a reconnect, by the sweep) that has already ended on the agent: the
    /// start reply says only that; the end operators see is the agent's job.finished, with its exit status.
    func testAnAnswerThatTheJobAlreadyEndedWaitsForItsExitStatus() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()
        let job = try await person.call(.jobsRun, JobsRunRequest(host: "node-1", action: "uptime"), as: JobReply.self).job
        let (startID, _) = try await agent.incomingRequest(.jobStart, as: JobStartRequest.self)
        try await agent.reply(to: startID, JobStateReply(state: .failed))
        _ = try await agent.call(.jobFinished, JobFinished(job: job.id, state: .failed, exitCode: 3, durationMs: 5), as: EmptyPayload.self)
        let failed = try await person.jobState(job.id, .failed)
        XCTAssertEqual(failed.exitCode, 3)
        XCTAssertEqual(failed.durationMs, 5)
    }

    func testWorkerKilledMidJobLosesNoRecord() async throws {
        dataCenter = try DataCenterTestCluster(workers: 2)
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()
        let job = try await runningJob(person, agent)
        _ = try await agent.call(.jobOutput, OutputChunk(job: job.id, seq: 0, stream: .stdout, data: "before\n"), as: EmptyPayload.self)

        // Kill -9 the worker that handles the agent (sticky routing): the other one takes over.
        let handling = try XCTUnwrap(dataCenter.workers.first { $0.output.contains("agent authenticated") })
        handling.kill()

        _ = try await agent.call(.jobOutput, OutputChunk(job: job.id, seq: 1, stream: .stdout, data: "after\n"), as: EmptyPayload.self)
        _ = try await agent.call(.jobFinished, JobFinished(job: job.id, state: .failed, exitCode: 3, durationMs: 9), as: EmptyPayload.self)
        let shown = try await person.call(.jobsShow, JobQuery(job: job.id), as: JobDetailReply.self)
        XCTAssertEqual(shown.job.state, .failed)
        XCTAssertEqual(shown.job.exitCode, 3)
        XCTAssertEqual(shown.output.map(\.data), ["before\n", "after\n"])
    }
}
