import ClusterTesting
import DataCenterClient
import DataCenterProtocol
import Foundation
import Logging
import Registry
import XCTest

/// A service written against the client library (``OperatorClient``), with a real cluster and a real
/// agent: it runs actions and follows their output, lists hosts and jobs, and cancels.
final class OperatorClientTests: DataCenterTestCase {
    private var agent: RealAgentProcess?

    override func tearDown() async throws {
        agent?.stop()
        try await super.tearDown()
    }

    private static var actions: [[String: Any]] {
        [
            [
                "name": "count", "description": "count to 20 on stdout, one line at a time, warn on stderr, exit 4", "shell": true,
                "program": "i=1; while [ $i -le 20 ]; do echo line $i; i=$((i+1)); sleep 0.02; done; echo warning >&2; exit 4",
            ],
            ["name": "wait", "description": "say it started, then sleep", "program": "echo started; exec sleep 30", "shell": true],
            [
                "name": "ticks", "description": "60 numbered lines, one every 50 ms", "shell": true,
                "program": "i=1; while [ $i -le 60 ]; do echo tick $i; i=$((i+1)); sleep 0.05; done",
            ],
        ]
    }

    /// A second gateway, linked to the cluster's workers, and a service that knows both.
    private func twoGateways() throws -> (gateways: [TestCluster.Gateway], service: OperatorClient) {
        let second = try dataCenter.cluster.startGateway()
        for worker in dataCenter.workers { try dataCenter.cluster.waitUntilLinked(worker, to: second) }
        let gateways = [dataCenter.gateway, second]
        let service = OperatorClient(
            endpoints: try gateways.map { try GatewayEndpoint("ws://127.0.0.1:\($0.publicPort)/") }, token: dataCenter.serviceToken,
            connector: try WebSocketConnector(allowPlainWebSocket: true), logger: Logger(label: "service"))
        return (gateways, service)
    }

    private func startService() throws -> OperatorClient {
        agent = try RealAgentProcess(host: "real-1", dataCenter: dataCenter, actions: Self.actions)
        return OperatorClient(
            endpoints: [try GatewayEndpoint("ws://127.0.0.1:\(dataCenter.gateway.publicPort)/")], token: dataCenter.serviceToken,
            connector: try WebSocketConnector(allowPlainWebSocket: true), logger: Logger(label: "service"))
    }

    /// Polls `hosts()` (bounded) until the agent of `host` is online.
    private static func waitUntilOnline(_ host: String, _ dc: OperatorSession) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await dc.hosts().contains(where: { $0.host == host && $0.online }) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("host \(host) did not come online")
    }

    func testAServiceRunsAnActionOnARealAgentAndGetsEveryChunkInOrderThenTheExitStatus() async throws {
        dataCenter = try DataCenterTestCluster(hosts: ["real-1"])
        let service = try startService()
        let (identity, job, events, kept, listed, hosts) = try await service.withSession { dc in
            try await OperatorClientTests.waitUntilOnline("real-1", dc)
            let run = try await dc.runJob(host: "real-1", action: "count")
            var events: [JobEvent] = []
            for try await event in run { events.append(event) }
            let kept = try await dc.job(run.job.id).output
            // Watching a job that has ended gives the same: its whole output, then its final record.
            var rewatched: [JobEvent] = []
            for try await event in try await dc.watch(job: run.job.id) { rewatched.append(event) }
            guard rewatched == events else { throw TestFailure("watching the ended job gave \(rewatched), not \(events)") }
            return (dc.identity, run.job, events, kept, try await dc.jobs(host: "real-1"), try await dc.hosts())
        }
        XCTAssertEqual(identity, OperatorAuthReply(operator: "backup", role: .service))
        XCTAssertEqual(job.host, "real-1")
        XCTAssertEqual(job.requestedBy, "service:backup")

        let (chunks, final) = try Self.checkedRun(events, kept: kept)
        XCTAssertEqual(final.id, job.id)
        XCTAssertEqual(final.state, .failed)
        XCTAssertEqual(final.exitCode, 4)
        let stdout = chunks.filter { $0.stream == .stdout }.map(\.data).joined()
        XCTAssertEqual(stdout, (1...20).map { "line \($0)\n" }.joined())
        XCTAssertEqual(chunks.filter { $0.stream == .stderr }.map(\.data).joined(), "warning\n")

        XCTAssertEqual(listed.first?.id, job.id, "jobs are listed newest first")
        XCTAssertEqual(listed.first?.exitCode, 4)
        XCTAssertEqual(hosts.map(\.host), ["real-1"])
        XCTAssertEqual(hosts.first?.online, true)
    }

    func testAServiceCancelsARunningJobAndAnotherFollowerSeesItEnd() async throws {
        dataCenter = try DataCenterTestCluster(hosts: ["real-1"])
        let service = try startService()
        let (first, cancelAsked, ran, watched, cancelledAgain, refused) = try await service.withSession { dc in
            try await OperatorClientTests.waitUntilOnline("real-1", dc)
            let run = try await dc.runJob(host: "real-1", action: "wait")
            var iterator = run.makeAsyncIterator()
            let first = try await iterator.next()
            let cancelAsked = try await dc.cancel(job: run.job.id)
            // A second follower of the same job on the same connection, joining late.
            let watch = try await dc.watch(job: run.job.id)
            var ran: [JobEvent] = []
            while let event = try await iterator.next() { ran.append(event) }
            var watched: [JobEvent] = []
            for try await event in watch { watched.append(event) }
            let cancelledAgain = await OperatorClientTests.error { try await dc.cancel(job: run.job.id) }
            let refused = await OperatorClientTests.error { try await dc.runJob(host: "real-1", action: "rm") }
            return (first, cancelAsked, ran, watched, cancelledAgain, refused)
        }
        guard case .output(let started)? = first else { return XCTFail("no output first: \(String(describing: first))") }
        XCTAssertEqual(started.data, "started\n")
        XCTAssertEqual(cancelAsked.state, .running)
        XCTAssertNotNil(cancelAsked.cancelRequestedAt)
        guard case .finished(let final)? = ran.last, ran.count == 1 else { return XCTFail("the run did not end at once: \(ran)") }
        XCTAssertEqual(final.state, .cancelled)
        XCTAssertEqual(watched, [.output(started), .finished(final)])
        XCTAssertEqual(cancelledAgain?.code, .conflict)
        XCTAssertEqual(refused?.code, .forbidden)
    }

    /// The gateway a service is connected to dies while it streams a job: the session moves to the other
    /// gateway and the run goes on, every chunk once and in order, to the job's end.
    func testAStreamedJobGoesOnWithEveryChunkOnceWhenTheServicesGatewayDies() async throws {
        dataCenter = try DataCenterTestCluster(hosts: ["real-1"])
        let (gateways, service) = try twoGateways()
        agent = try RealAgentProcess(host: "real-1", dataCenter: dataCenter, gatewayPorts: gateways.map(\.publicPort), actions: Self.actions)
        let (events, kept, before, after) = try await withTimeout(.seconds(30), waitingFor: "the run") {
            try await service.withSession { dc in
                try await OperatorClientTests.waitUntilOnline("real-1", dc)
                guard let before = dc.connection.endpoint else { throw TestFailure("no connection") }
                let run = try await dc.runJob(host: "real-1", action: "ticks")
                var events: [JobEvent] = []
                for try await event in run {
                    events.append(event)
                    if events.count == 3 { gateways.first { $0.publicPort == before.port }?.process.kill() }
                }
                // What a session that reconnects asks for: the kept chunks from the first it has not seen.
                let tail = try await dc.connection.request(.jobsShow, JobOutputQuery(job: run.job.id, fromSeq: 2)).payload(JobDetailReply.self)
                let kept = try await dc.job(run.job.id).output
                guard tail.output == Array(kept.dropFirst(2)) else { throw TestFailure("jobs.show from seq 2 gave \(tail.output)") }
                return (events, kept, before, dc.connection.endpoint)
            }
        }
        XCTAssertNotEqual(after, before, "the session moved to the other gateway")
        let (chunks, final) = try Self.checkedRun(events, kept: kept)
        XCTAssertEqual(final.state, .done)
        XCTAssertEqual(final.exitCode, 0)
        XCTAssertEqual(chunks.map(\.data).joined(), (1...60).map { "tick \($0)\n" }.joined())
    }

    /// A call waiting for its reply when the connection is lost fails at once with `Closed`; the next
    /// call goes out on the other gateway.
    func testACallInFlightAtTheLossFailsAndTheNextGoesToTheOtherGateway() async throws {
        dataCenter = try DataCenterTestCluster()
        let (gateways, service) = try twoGateways()
        let cluster: DataCenterTestCluster = dataCenter
        let (failure, waited, hosts) = try await service.withSession { dc in
            guard let before = dc.connection.endpoint, let other = gateways.first(where: { $0.publicPort != before.port }) else {
                throw TestFailure("no connection")
            }
            // An agent that never answers, on the other gateway: the service's jobs.running waits for it.
            let agent = try await EnvelopeTestClient.agent(
                port: other.publicPort, host: "node-1", token: cluster.agentTokens["node-1"] ?? "", actions: DataCenterTestCluster.actions)
            let running = Task { try await dc.runningJobs(host: "node-1") }
            _ = try await agent.incomingRequest(.jobsRunning, as: EmptyPayload.self)
            let lost = ContinuousClock.now
            gateways.first { $0.publicPort == before.port }?.process.kill()
            let failure = await running.result
            let waited = ContinuousClock.now - lost
            let hosts = try await dc.hosts()
            await agent.close()
            return (failure, waited, hosts)
        }
        guard case .failure(let error) = failure else { return XCTFail("a call in flight at the loss was answered: \(failure)") }
        XCTAssertTrue(error is DataCenterSession.Closed, "\(error)")
        XCTAssertLessThan(waited, .seconds(5), "failed when the connection ended, not at the request timeout")
        XCTAssertEqual(hosts.map(\.host), ["node-1"])
    }

    /// A followed job whose record the central side no longer has (expired, or lost with memcached)
    /// ends its run with `not_found` at the next check of silent jobs; a silent job that is still
    /// there is followed on.
    func testARunOfAJobThatVanishesEndsWithNotFound() async throws {
        dataCenter = try DataCenterTestCluster()
        let person = try await dataCenter.operatorClient()
        await (try dataCenter.agent()).close()
        _ = try await person.event(.hostOffline, as: HostPresence.self)
        let memcached = try MemcachedClient(configuration: MemcachedConfiguration(servers: [dataCenter.cluster.memcached.address]))
        addTeardownBlock { await memcached.shutdown() }
        let data = GlobalData(client: memcached)
        let service = OperatorClient(
            endpoints: [try GatewayEndpoint("ws://127.0.0.1:\(dataCenter.gateway.publicPort)/")], token: dataCenter.serviceToken,
            connector: try WebSocketConnector(allowPlainWebSocket: true), jobCheckInterval: .milliseconds(500), logger: Logger(label: "service"))

        let (vanished, kept) = try await withTimeout(.seconds(30), waitingFor: "the run of the vanished job to end") {
            try await service.withSession { dc in
                let keptRun = try await dc.runJob(host: "node-1", action: "uptime")
                let following = Task { try await keptRun.reduce(into: [JobEvent]()) { $0.append($1) } }
                let run = try await dc.runJob(host: "node-1", action: "uptime")
                guard try await data.delete("dc.job:\(run.job.id)") else { throw TestFailure("no record of \(run.job.id) to delete") }
                let vanished = await Self.error { for try await event in run { throw TestFailure("the vanished job gave \(event)") } }
                // Still followed after the checks that found the other job gone: its end reaches the run.
                try await dc.cancel(job: keptRun.job.id)
                return (vanished, try await following.value)
            }
        }
        XCTAssertEqual(vanished?.code, .notFound)
        guard case .finished(let record)? = kept.last else { return XCTFail("the kept job's run ended with \(kept)") }
        XCTAssertEqual(record.state, .cancelled)
    }

    func testAWrongTokenIsNotAuthenticated() async throws {
        dataCenter = try DataCenterTestCluster()
        let service = OperatorClient(
            endpoints: [try GatewayEndpoint("ws://127.0.0.1:\(dataCenter.gateway.publicPort)/")], token: "dct_wrong",
            connector: try WebSocketConnector(allowPlainWebSocket: true), connectTimeout: .seconds(5), logger: Logger(label: "service"))
        let started = ContinuousClock.now
        do {
            _ = try await service.withSession { dc in try await dc.hosts() }
            XCTFail("a wrong token was accepted")
        } catch let error as ProtocolError {
            XCTAssertEqual(error.code, .authFailed)
        } catch {
            // The gateway's close can overtake the refusal it follows: the connection's end is the error then.
            XCTAssertTrue(error is DataCenterSession.Closed, "\(error)")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(4), "a refused token is not retried until the connect timeout")
    }

    /// A run's chunks and final record, checked: output only, every chunk once and in order, as the
    /// central side kept it, then the final record.
    private static func checkedRun(_ events: [JobEvent], kept: [OutputChunk]) throws -> (chunks: [OutputChunk], final: JobRecord) {
        guard case .finished(let final)? = events.last else { throw TestFailure("the run did not end with the job's final record: \(events)") }
        let chunks = events.dropLast().compactMap { event -> OutputChunk? in
            if case .output(let chunk) = event { return chunk }
            return nil
        }
        XCTAssertEqual(chunks.count, events.count - 1, "only output before the end")
        XCTAssertEqual(chunks.map(\.seq), Array(0..<chunks.count), "every chunk, in order, once")
        XCTAssertEqual(chunks, kept, "what the service got is what the central side kept")
        return (chunks, final)
    }

    private static func error<Value>(_ body: () async throws -> Value) async -> ProtocolError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? ProtocolError
        }
    }
}
