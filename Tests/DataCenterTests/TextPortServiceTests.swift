import ClusterTesting
import DataCenterProtocol
import Foundation
import XCTest

/// Services on the gateway's text port: one envelope per line in, one reply per line out.
final class TextPortServiceTests: DataCenterTestCase {
    override func setUp() async throws {
        dataCenter = try DataCenterTestCluster()
    }

    func testServiceRunsAJobOverTheTextPort() async throws {
        let agent = try await dataCenter.agent()
        let service = try await EnvelopeTestClient.textPort(port: dataCenter.textPort)
        let auth = try await service.call(.authOperator, OperatorAuthRequest(token: dataCenter.serviceToken), as: OperatorAuthReply.self)
        XCTAssertEqual(auth, OperatorAuthReply(operator: "backup", role: .service))

        let job = try await service.call(.jobsRun, JobsRunRequest(host: "node-1", action: "uptime"), as: JobReply.self).job
        XCTAssertEqual(job.requestedBy, "service:backup")
        let (startID, _) = try await agent.incomingRequest(.jobStart, as: JobStartRequest.self)
        try await agent.reply(to: startID, JobStateReply(state: .running))
        _ = try await agent.call(.jobOutput, OutputChunk(job: job.id, seq: 0, stream: .stdout, data: "up 3 days\n"), as: EmptyPayload.self)
        let streamedText = try await service.event(.jobOutput, as: OutputChunk.self).data
        XCTAssertEqual(streamedText, "up 3 days\n")
        _ = try await agent.call(.jobFinished, JobFinished(job: job.id, state: .done, exitCode: 0, durationMs: 1), as: EmptyPayload.self)
        _ = try await service.jobState(job.id, .running)
        let ended = try await service.jobState(job.id, .done)
        XCTAssertEqual(ended.exitCode, 0)
    }

    /// A request that the agent answers reaches the service's line connection too, under its own id.
    func testServiceAddsATimerOverTheTextPort() async throws {
        let agent = try await dataCenter.agent()
        let service = try await EnvelopeTestClient.textPort(port: dataCenter.textPort)
        _ = try await service.call(.authOperator, OperatorAuthRequest(token: dataCenter.serviceToken), as: OperatorAuthReply.self)
        let add = try await service.post(.timersAdd, TimersAddRequest(host: "node-1", name: "uptime-5m", action: "uptime", everySeconds: 300))
        let (addID, timer) = try await agent.incomingRequest(.timerAdd, as: TimerSpec.self)
        try await agent.reply(to: addID, EmptyPayload())
        let timers = try await service.replyTo(add).payload(TimerListReply.self).timers
        XCTAssertEqual(timers, [timer])
    }

    func testShellScriptWithNetcat() throws {
        let lines = [
            Envelope.request(id: "1", op: .authOperator, data: OperatorAuthRequest(token: dataCenter.serviceToken)),
            Envelope.request(id: "2", op: .hostsList, data: EmptyPayload()),
        ]
        let script = "printf '%s\\n%s\\n' '\(lines[0])' '\(lines[1])' | nc -q 1 127.0.0.1 \(dataCenter.textPort)"
        let outcome = try CommandRunner.run("/bin/sh", ["-c", script], timeout: .seconds(20))
        let replies = outcome.standardOutput.split(separator: "\n").map { try? InboundMessage.decode(String($0)).get() }
        XCTAssertEqual(replies.count, 2, "status \(outcome.status): \(outcome.output)")
        XCTAssertEqual(replies.first??.kind, .reply(re: "1", error: nil))
        XCTAssertEqual(replies.last??.kind, .reply(re: "2", error: nil))
        XCTAssertEqual(try replies.last??.payload(HostsListReply.self).hosts, [])
    }

    func testServiceWithoutAuthenticationIsClosed() async throws {
        let service = try await EnvelopeTestClient.textPort(port: dataCenter.textPort)
        let error = try await service.failure(.jobsList, EmptyPayload())
        XCTAssertEqual(error.code, .authRequired)
        try await service.waitForClose()
    }
}
