import ClusterTesting
import DataCenterProtocol
import XCTest

/// `jobs.runMany` and `jobs.cancelMany` end to end, with test clients playing three hosts' agents.
final class JobFanOutTests: DataCenterTestCase {
    private static func isJobStart(_ message: InboundMessage) -> Bool {
        if case .request(_, OperationName.jobStart.rawValue) = message.kind { return true }
        return false
    }

    func testRunManyOffersEachHostItsJobOnceAndCancelManyCancelsThemAll() async throws {
        dataCenter = try DataCenterTestCluster(hosts: ["node-1", "node-2", "node-3"])
        let person = try await dataCenter.operatorClient()
        // node-3 is known (it authenticated once) but offline.
        await (try await dataCenter.agent("node-3")).close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        let agents = [try await dataCenter.agent("node-1"), try await dataCenter.agent("node-2")]

        let run = JobsRunManyRequest(hosts: ["node-1", "node-2", "node-3"], action: "vps.restart", params: ["vps": "vps101"], stdin: "yes\n")
        let jobs = try await person.call(.jobsRunMany, run, as: JobsListReply.self).jobs
        XCTAssertEqual(jobs.map(\.host), run.hosts)
        XCTAssertEqual(Set(jobs.map(\.id)).count, 3)
        XCTAssertTrue(jobs.allSatisfy { $0.state == .queued && $0.action == "vps.restart" && $0.requestedBy == "alice" })

        for (agent, job) in zip(agents, jobs) {
            let (startID, start) = try await agent.incomingRequest(.jobStart, as: JobStartRequest.self)
            XCTAssertEqual(start.job, job.id)
            XCTAssertEqual(start.stdin, "yes\n")
            try await agent.reply(to: startID, JobStateReply(state: .running))
            _ = try await person.jobState(job.id, .running)
        }
        // The sweep offers a job again while its record still says queued (the agent's answer not
        // recorded yet, a race on a loaded machine); the agent runs a job id at most once and answers
        // a repeat with the job's state. What must hold: a host is offered only its own job, and a
        // repeated offer, answered, changes nothing.
        for (agent, job) in zip(agents, jobs) {
            var repeats = 0
            while let again = try? await agent.incomingRequest(.jobStart, as: JobStartRequest.self, timeout: .milliseconds(300)) {
                XCTAssertEqual(again.data.job, job.id, "a host was offered a job not its own")
                repeats += 1
                guard repeats <= 3 else { return XCTFail("\(job.host) is offered its running job again and again") }
                try await agent.reply(to: again.id, JobStateReply(state: .running))
            }
        }

        let listed = try await person.call(.jobsList, JobsListRequest(), as: JobsListReply.self).jobs
        XCTAssertEqual(Set(listed.map(\.id)), Set(jobs.map(\.id)))
        XCTAssertEqual(listed.sorted { $0.host < $1.host }.map(\.state), [.running, .running, .queued])
        let ofNode3 = try await person.call(.jobsList, JobsListRequest(host: "node-3"), as: JobsListReply.self).jobs
        XCTAssertEqual(ofNode3.map(\.id), [jobs[2].id])

        let asked = try await person.call(.jobsCancelMany, JobsCancelManyRequest(jobs: jobs.map(\.id)), as: JobsListReply.self).jobs
        XCTAssertEqual(asked.map(\.id), jobs.map(\.id))
        XCTAssertEqual(asked.map(\.state), [.running, .running, .cancelled])
        XCTAssertNotNil(asked[0].cancelRequestedAt)
        XCTAssertNotNil(asked[1].cancelRequestedAt)
        for (agent, job) in zip(agents, jobs) {
            let (cancelID, cancel) = try await agent.incomingRequest(.jobCancel, as: JobQuery.self)
            XCTAssertEqual(cancel.job, job.id)
            try await agent.reply(to: cancelID, JobStateReply(state: .running))
            _ = try await agent.call(.jobFinished, JobFinished(job: job.id, state: .cancelled, signal: 15, durationMs: 5), as: EmptyPayload.self)
            _ = try await person.jobState(job.id, .cancelled)
        }

        // The cancelled queued job is not offered when its host connects.
        let late = try await dataCenter.agent("node-3")
        let nothingOffered = await late.receivesNothing(within: .milliseconds(300), matching: Self.isJobStart)
        XCTAssertTrue(nothingOffered, "a cancelled job was offered to its agent")
        // Jobs that have ended are answered as they are.
        let again = try await person.call(.jobsCancelMany, JobsCancelManyRequest(jobs: jobs.map(\.id)), as: JobsListReply.self).jobs
        XCTAssertEqual(again.map(\.state), [.cancelled, .cancelled, .cancelled])
    }

    func testABadBatchIsRefusedNamingTheHostOrJobAndStoresNothing() async throws {
        dataCenter = try DataCenterTestCluster(hosts: ["node-1", "node-2"])
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent("node-1")
        await (try await dataCenter.agent("node-2", actions: [])).close()

        let refusals: [(JobsRunManyRequest, ErrorCode, String)] = [
            (JobsRunManyRequest(hosts: [], action: "uptime"), .badRequest, "'hosts'"),
            (JobsRunManyRequest(hosts: ["node-1", "node-1"], action: "uptime"), .badRequest, "'node-1'"),
            (JobsRunManyRequest(hosts: ["node-1", "bad host"], action: "uptime"), .badRequest, "'bad host'"),
            (JobsRunManyRequest(hosts: ["node-1", "node-9"], action: "uptime"), .notFound, "'node-9'"),
            (JobsRunManyRequest(hosts: ["node-1", "node-2"], action: "uptime"), .forbidden, "node-2"),
            (JobsRunManyRequest(hosts: ["node-1"], action: "vps.restart", params: ["vps": "a b; rm -rf /"]), .badRequest, "node-1"),
        ]
        for (request, code, named) in refusals {
            let error = try await person.failure(.jobsRunMany, request)
            XCTAssertEqual(error.code, code, "\(request.hosts)")
            XCTAssertTrue(error.message.contains(named), "'\(error.message)' does not name \(named)")
        }
        let unknown = try await person.failure(.jobsCancelMany, JobsCancelManyRequest(jobs: ["j-0000000000000000"]))
        XCTAssertEqual(unknown.code, .notFound)
        XCTAssertTrue(unknown.message.contains("j-0000000000000000"))

        let listed = try await person.call(.jobsList, JobsListRequest(), as: JobsListReply.self).jobs
        XCTAssertEqual(listed, [], "a refused batch stored jobs")
        let nothingSent = await agent.receivesNothing(within: .milliseconds(300)) { _ in true }
        XCTAssertTrue(nothingSent)
    }
}
