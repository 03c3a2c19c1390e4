import ClusterTesting
import DataCenterProtocol
import Foundation
import XCTest

/// Timers on agents through the central side, with a test client playing the agent: `timers.*` are
/// checked, sent on to the agent and answered with its reply; a timer's runs become job records.
final class TimerTests: DataCenterTestCase {
    func testTimersAreCheckedThenSentOnToTheAgentAndAnsweredWithItsReply() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        let unknownHost = try await person.failure(.timersList, HostQuery(host: "node-9"))
        XCTAssertEqual(unknownHost.code, .notFound)
        let agent = try await dataCenter.agent()

        // Refused by the central side, with the agent's own rules, before anything reaches the agent.
        let refusals: [(TimersAddRequest, ErrorCode)] = [
            (TimersAddRequest(host: "node-1", name: "t", action: "rm", everySeconds: 5), .forbidden),
            (TimersAddRequest(host: "node-1", name: "t", action: "vps.restart", params: ["vps": "-rf"], everySeconds: 5), .badRequest),
            (TimersAddRequest(host: "node-1", name: ".t", action: "uptime", everySeconds: 5), .badRequest),
            (TimersAddRequest(host: "node-1", name: "t", action: "uptime", everySeconds: 0), .badRequest),
        ]
        for (request, code) in refusals {
            let error = try await person.failure(.timersAdd, request)
            XCTAssertEqual(error.code, code, "\(request)")
        }
        let nothingSent = await agent.receivesNothing(within: .milliseconds(300)) { _ in true }
        XCTAssertTrue(nothingSent)

        // Added: the agent gets timer.add, the operator its reply (the host's timers).
        let add = try await person.post(.timersAdd, TimersAddRequest(host: "node-1", name: "uptime-1m", action: "uptime", everySeconds: 60))
        let (addID, timer) = try await agent.incomingRequest(.timerAdd, as: TimerSpec.self)
        XCTAssertEqual(timer, TimerSpec(name: "uptime-1m", action: "uptime", everySeconds: 60))
        try await agent.reply(to: addID, EmptyPayload())
        let added = try await person.replyTo(add).payload(TimerListReply.self)
        XCTAssertEqual(added.timers, [timer])

        // Listed: what the agent says.
        let list = try await person.post(.timersList, HostQuery(host: "node-1"))
        let (listID, _) = try await agent.incomingRequest(.timerList, as: EmptyPayload.self)
        try await agent.reply(to: listID, TimerListReply(timers: [timer]))
        let listed = try await person.replyTo(list).payload(TimerListReply.self)
        XCTAssertEqual(listed.timers, [timer])

        // The agent's error reaches the operator with its code.
        let removeUnknown = try await person.post(.timersRemove, TimersRemoveRequest(host: "node-1", name: "other"))
        let (unknownID, _) = try await agent.incomingRequest(.timerRemove, as: TimerQuery.self)
        try await agent.sendRaw(Envelope.reply(to: unknownID, error: ProtocolError(.notFound, "no timer other on this host")))
        guard case .reply(_, let error?) = try await person.replyTo(removeUnknown).kind else { return XCTFail("removing an unknown timer succeeded") }
        XCTAssertEqual(error.code, .notFound)

        let remove = try await person.post(.timersRemove, TimersRemoveRequest(host: "node-1", name: "uptime-1m"))
        let (removeID, removed) = try await agent.incomingRequest(.timerRemove, as: TimerQuery.self)
        XCTAssertEqual(removed.name, "uptime-1m")
        try await agent.reply(to: removeID, EmptyPayload())
        let afterRemove = try await person.replyTo(remove).payload(TimerListReply.self)
        XCTAssertEqual(afterRemove.timers, [])

        // An agent that goes away without answering: the operator gets not_online, not silence.
        let unanswered = try await person.post(.timersList, HostQuery(host: "node-1"))
        _ = try await agent.incomingRequest(.timerList, as: EmptyPayload.self)
        await agent.close()
        guard case .reply(_, let gone?) = try await person.replyTo(unanswered).kind else { return XCTFail("an unanswered request succeeded") }
        XCTAssertEqual(gone.code, .notOnline)
    }

    /// While the host is offline, changes are checked, queued and answered at once; when its agent
    /// connects it gets each (one per timer, the last asked), and its replies are what the central side records.
    func testTimerChangesForAnOfflineHostAreQueuedAndSentWhenItsAgentConnects() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()
        let kept = TimerSpec(name: "kept", action: "uptime", everySeconds: 60)
        let add = try await person.post(.timersAdd, TimersAddRequest(host: "node-1", name: "kept", action: "uptime", everySeconds: 60))
        let (addID, _) = try await agent.incomingRequest(.timerAdd, as: TimerSpec.self)
        try await agent.reply(to: addID, EmptyPayload())
        let online = try await person.replyTo(add).payload(HostTimersReply.self)
        XCTAssertEqual(online, HostTimersReply(timers: [kept]))
        await agent.close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)

        let listed = try await person.call(.timersList, HostQuery(host: "node-1"), as: HostTimersReply.self)
        XCTAssertEqual(listed, HostTimersReply(timers: [kept]), "the last list the agent stated")
        let forbidden = try await person.failure(.timersAdd, TimersAddRequest(host: "node-1", name: "t", action: "rm", everySeconds: 5))
        XCTAssertEqual(forbidden.code, .forbidden, "checked against the allow-list while offline too")

        let hourly = TimerSpec(name: "restart", action: "vps.restart", params: ["vps": "vps101"], everySeconds: 3600)
        let first = try await person.call(
            .timersAdd, TimersAddRequest(host: "node-1", name: "restart", action: "vps.restart", params: ["vps": "vps101"], everySeconds: 60),
            as: HostTimersReply.self)
        XCTAssertEqual(first.queued, true)
        XCTAssertEqual(first.pending?.map(\.name), ["restart"])
        let removed = try await person.call(.timersRemove, TimersRemoveRequest(host: "node-1", name: "kept"), as: HostTimersReply.self)
        XCTAssertEqual(removed.timers.map(\.name), ["restart"])
        // A later change of the same timer replaces the waiting one.
        let replaced = try await person.call(
            .timersAdd, TimersAddRequest(host: "node-1", name: "restart", action: "vps.restart", params: ["vps": "vps101"], everySeconds: 3600),
            as: HostTimersReply.self)
        XCTAssertEqual(replaced.timers, [hourly])
        XCTAssertEqual(replaced.pending?.map(\.change), [.remove, .add])
        XCTAssertEqual(replaced.pending?.map(\.name), ["kept", "restart"])
        XCTAssertEqual(replaced.pending?.last?.timer, hourly)
        XCTAssertEqual(replaced.pending?.last?.requestedBy, "alice")
        let gone = try await person.failure(.timersRemove, TimersRemoveRequest(host: "node-1", name: "kept"))
        XCTAssertEqual(gone.code, .notFound, "a timer the queued changes remove is not there to remove")
        let offlineList = try await person.call(.timersList, HostQuery(host: "node-1"), as: HostTimersReply.self)
        XCTAssertEqual(offlineList.timers, [hourly])
        XCTAssertEqual(offlineList.pending, replaced.pending)
        XCTAssertNil(offlineList.queued)

        // The agent connects (announcing the timer it kept): it gets the two changes, each once.
        let back = try await dataCenter.agent(timers: [kept])
        let (removeID, removal) = try await back.incomingRequest(.timerRemove, as: TimerQuery.self)
        XCTAssertEqual(removal.name, "kept")
        let (addedID, added) = try await back.incomingRequest(.timerAdd, as: TimerSpec.self)
        XCTAssertEqual(added, hourly)
        let nothingMore = await back.receivesNothing(within: .milliseconds(500)) { message in
            if case .request(_, let op) = message.kind { return op.hasPrefix("timer.") }
            return false
        }
        XCTAssertTrue(nothingMore, "each change is sent once")
        try await back.reply(to: addedID, EmptyPayload())
        try await back.reply(to: removeID, EmptyPayload())

        // Recorded from the agent's replies: offline again, the list is the agent's, with nothing pending.
        await back.close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        let recorded = try await person.call(.timersList, HostQuery(host: "node-1"), as: HostTimersReply.self)
        XCTAssertEqual(recorded, HostTimersReply(timers: [hourly]))
    }

    /// A queued change that the connected agent leaves unanswered past the relay timeout is sent again.
    func testAQueuedChangeTheConnectedAgentLeavesUnansweredIsSentAgain() async throws {
        // Long enough that the answer to the second send comes before a third (on a loaded machine too).
        dataCenter = try DataCenterTestCluster(relayTimeout: 2)
        let person = try await dataCenter.operatorClient()
        await (try dataCenter.agent()).close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        let timer = TimerSpec(name: "t", action: "uptime", everySeconds: 5)
        _ = try await person.call(.timersAdd, TimersAddRequest(host: "node-1", name: "t", action: "uptime", everySeconds: 5), as: HostTimersReply.self)

        let agent = try await dataCenter.agent()
        let (firstID, first) = try await agent.incomingRequest(.timerAdd, as: TimerSpec.self)
        XCTAssertEqual(first, timer)
        let (againID, again) = try await agent.incomingRequest(.timerAdd, as: TimerSpec.self, timeout: .seconds(10))
        XCTAssertEqual(again, timer)
        XCTAssertNotEqual(againID, firstID)
        try await agent.reply(to: againID, EmptyPayload())
        await agent.close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        let recorded = try await person.call(.timersList, HostQuery(host: "node-1"), as: HostTimersReply.self)
        XCTAssertEqual(recorded, HostTimersReply(timers: [timer]))
    }

    /// A queued change that the agent does not answer before it leaves is queued again for its next connect.
    func testAQueuedChangeTheAgentLeavesUnansweredIsSentAgainAtItsNextConnect() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        await (try dataCenter.agent()).close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        let timer = TimerSpec(name: "t", action: "uptime", everySeconds: 5)
        let queued = try await person.call(.timersAdd, TimersAddRequest(host: "node-1", name: "t", action: "uptime", everySeconds: 5), as: HostTimersReply.self)
        XCTAssertEqual(queued.queued, true)

        let silent = try await dataCenter.agent()
        _ = try await silent.incomingRequest(.timerAdd, as: TimerSpec.self)
        await silent.close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        let waiting = try await person.call(.timersList, HostQuery(host: "node-1"), as: HostTimersReply.self)
        XCTAssertEqual(waiting.pending?.map(\.timer), [timer])

        let answering = try await dataCenter.agent()
        let (id, again) = try await answering.incomingRequest(.timerAdd, as: TimerSpec.self)
        XCTAssertEqual(again, timer)
        try await answering.reply(to: id, EmptyPayload())
        let list = try await person.post(.timersList, HostQuery(host: "node-1"))
        let (listID, _) = try await answering.incomingRequest(.timerList, as: EmptyPayload.self)
        try await answering.reply(to: listID, TimerListReply(timers: [timer]))
        let listed = try await person.replyTo(list).payload(HostTimersReply.self)
        XCTAssertEqual(listed, HostTimersReply(timers: [timer]))
    }

    /// The operator's worker sends the request on; the agent's worker, another one, answers the operator.
    func testTheAgentsAnswerReachesTheOperatorFromAnotherWorker() async throws {
        dataCenter = try DataCenterTestCluster(workers: 2)
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()
        // The worker logs after it replied: poll (bounded) for the line.
        func worker(thatLogged line: String) async throws -> Int {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if let index = dataCenter.workers.firstIndex(where: { $0.output.contains(line) }) { return index }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw TestFailure("no worker logged '\(line)'")
        }
        let personWorker = try await worker(thatLogged: "operator authenticated")
        let agentWorker = try await worker(thatLogged: "agent authenticated")
        XCTAssertNotEqual(personWorker, agentWorker, "the gateway gives its clients to the workers in turn")

        let list = try await person.post(.timersList, HostQuery(host: "node-1"))
        let (listID, _) = try await agent.incomingRequest(.timerList, as: EmptyPayload.self)
        let timer = TimerSpec(name: "t", action: "uptime", everySeconds: 5)
        try await agent.reply(to: listID, TimerListReply(timers: [timer]))
        let listed = try await person.replyTo(list).payload(TimerListReply.self)
        XCTAssertEqual(listed.timers, [timer])
    }

    /// Two connections of one host's agent, given to the two workers in turn, each answer half of
    /// many changes, back to back: the workers record the host's timers at the same time, and every
    /// answered change is kept.
    func testChangesRecordedByTwoWorkersAtOnceAreAllKept() async throws {
        dataCenter = try DataCenterTestCluster(workers: 2)
        let person = try await dataCenter.operatorClient()
        let agents = [try await dataCenter.agent(), try await dataCenter.agent()]
        let names = (100..<220).map { "t\($0)" }
        var posted: [String] = []
        for name in names {
            posted.append(try await person.post(.timersAdd, TimersAddRequest(host: "node-1", name: name, action: "uptime", everySeconds: 60)))
        }
        // Each connection of the host gets every request; the first answer of each counts.
        var asked: [String] = []
        for _ in names { asked.append(try await agents[0].incomingRequest(.timerAdd, as: TimerSpec.self).id) }
        for (index, id) in asked.enumerated() { try await agents[index % 2].reply(to: id, EmptyPayload()) }
        for id in posted {
            let reply = try await person.replyTo(id)
            if case .reply(_, let error?) = reply.kind { throw error }
        }
        XCTAssertTrue(dataCenter.workers.allSatisfy { $0.output.contains("timers changed") }, "both workers recorded answers")

        for agent in agents { await agent.close() }
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        let recorded = try await person.call(.timersList, HostQuery(host: "node-1"), as: HostTimersReply.self)
        XCTAssertEqual(recorded.timers.map(\.name), names, "a change recorded at the same time as another was lost")
    }

    /// A change queued for a host that does not come back within the expiry is dropped: no longer
    /// pending, and not sent when the agent connects at last.
    func testAQueuedChangeIsDroppedWhenItsHostStaysAwayPastTheExpiry() async throws {
        dataCenter = try DataCenterTestCluster(workerArguments: ["--timer-change-expiry", "2"])
        let person = try await dataCenter.operatorClient()
        await (try dataCenter.agent()).close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        let queued = try await person.call(
            .timersAdd, TimersAddRequest(host: "node-1", name: "t", action: "uptime", everySeconds: 5), as: HostTimersReply.self)
        XCTAssertEqual(queued.pending?.map(\.name), ["t"])

        let deadline = ContinuousClock.now + .seconds(20)
        var listed = queued
        while listed.pending != nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            listed = try await person.call(.timersList, HostQuery(host: "node-1"), as: HostTimersReply.self)
        }
        XCTAssertEqual(listed, HostTimersReply(timers: []), "the queued change never expired")

        let back = try await dataCenter.agent()
        let nothingSent = await back.receivesNothing(within: .milliseconds(500)) { message in
            if case .request(_, let op) = message.kind { return op.hasPrefix("timer.") }
            return false
        }
        XCTAssertTrue(nothingSent, "an expired change was sent to the agent")
    }

    /// An agent that stays connected but never answers: the sweep, on whichever worker holds its lease,
    /// answers `timeout` once the relay timeout has passed, and the agent's late answer changes nothing.
    func testARequestTheConnectedAgentLeavesUnansweredGetsTimeout() async throws {
        dataCenter = try DataCenterTestCluster(workers: 2, relayTimeout: 1)
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()

        let asked = ContinuousClock.now
        let list = try await person.post(.timersList, HostQuery(host: "node-1"))
        let (listID, _) = try await agent.incomingRequest(.timerList, as: EmptyPayload.self)
        let running = try await person.post(.jobsRunning, HostQuery(host: "node-1"))
        _ = try await agent.incomingRequest(.jobsRunning, as: EmptyPayload.self)
        for id in [list, running] {
            guard case .reply(_, let error?) = try await person.replyTo(id, timeout: .seconds(10)).kind else {
                return XCTFail("a request the agent did not answer succeeded")
            }
            XCTAssertEqual(error.code, .timeout, error.message)
        }
        let waited = ContinuousClock.now - asked
        XCTAssertGreaterThanOrEqual(waited, .seconds(1), "answered before the relay timeout")
        XCTAssertLessThan(waited, .seconds(6), "the relay timeout plus one sweep interval (and a loaded machine) allow less")

        // The late answer finds nobody waiting; the host is still online and answers the next request.
        try await agent.reply(to: listID, TimerListReply(timers: []))
        let nothingMore = await person.receivesNothing(within: .milliseconds(500)) { message in
            if case .reply(let re, _) = message.kind { return re == list }
            return false
        }
        XCTAssertTrue(nothingMore, "the operator got a second answer")
        let again = try await person.post(.timersList, HostQuery(host: "node-1"))
        let (againID, _) = try await agent.incomingRequest(.timerList, as: EmptyPayload.self)
        try await agent.reply(to: againID, TimerListReply(timers: []))
        let answered = try await person.replyTo(again).payload(TimerListReply.self)
        XCTAssertEqual(answered.timers, [])
    }

    func testATimerRunIsAJobWithItsOutputAndExitStatus() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        // The agent announces its timers when it authenticates.
        let timer = TimerSpec(name: "disk.check", action: "vps.restart", params: ["vps": "vps101"], everySeconds: 30)
        let agent = try await dataCenter.agent(timers: [timer])

        let started = Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded(.down))
        let run = timer.runID(at: started)
        _ = try await agent.call(.jobOutput, OutputChunk(job: run, seq: 0, stream: .stdout, data: "checked\n"), as: EmptyPayload.self)
        let running = try await person.jobState(run, .running)
        XCTAssertEqual(running.host, "node-1")
        XCTAssertEqual(running.action, "vps.restart")
        XCTAssertEqual(running.params, ["vps": "vps101"])
        XCTAssertEqual(running.requestedBy, "timer:disk.check")
        XCTAssertEqual(running.startedAt, Timestamp(started))
        _ = try await agent.call(.jobOutput, OutputChunk(job: run, seq: 0, stream: .stdout, data: "checked\n"), as: EmptyPayload.self)
        _ = try await agent.call(.jobFinished, JobFinished(job: run, state: .failed, exitCode: 2, durationMs: 20), as: EmptyPayload.self)
        let failed = try await person.jobState(run, .failed)
        XCTAssertEqual(failed.exitCode, 2)

        let shown = try await person.call(.jobsShow, JobQuery(job: run), as: JobDetailReply.self)
        XCTAssertEqual(shown.output, [OutputChunk(job: run, seq: 0, stream: .stdout, data: "checked\n")])
        let listed = try await person.call(.jobsList, JobsListRequest(host: "node-1"), as: JobsListReply.self).jobs
        XCTAssertEqual(listed.map(\.id), [run])

        // A run whose first news is its end (it printed nothing) is recorded too; a job id that is not a
        // timer run is still unknown.
        let quick = timer.runID(at: started.addingTimeInterval(30))
        _ = try await agent.call(.jobFinished, JobFinished(job: quick, state: .done, exitCode: 0, durationMs: 5), as: EmptyPayload.self)
        _ = try await person.jobState(quick, .done)
        let unknown = try await agent.failure(.jobFinished, JobFinished(job: "j-0000000000000000", state: .done, exitCode: 0, durationMs: 5))
        XCTAssertEqual(unknown.code, .notFound)
    }

    func testRunIDsNameTheirTimerAndStart() {
        let timer = TimerSpec(name: "a.b:c-1", action: "x", everySeconds: 5)
        let id = timer.runID(at: Date(timeIntervalSince1970: 1.5))
        XCTAssertEqual(id, "timer.a.b:c-1.1500")
        XCTAssertEqual(TimerSpec.run(of: id)?.timer, "a.b:c-1")
        XCTAssertEqual(TimerSpec.run(of: id)?.startedAt, Date(timeIntervalSince1970: 1.5))
        XCTAssertNil(TimerSpec.run(of: "j-00ff"))
        XCTAssertNil(TimerSpec.run(of: "timer..15"))
        XCTAssertNil(TimerSpec.run(of: "timer.x.soon"))
        XCTAssertNil(TimerSpec.run(of: "timer.15"))
    }
}
