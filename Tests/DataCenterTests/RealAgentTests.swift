import ClusterTesting
import DataCenterProtocol
import Foundation
import XCTest

/// The central handler with the real `datacentered agent`: reports arrive, a job runs as a child
/// process on the agent and its output and exit status reach the operator.
final class RealAgentTests: DataCenterTestCase {
    private var agent: RealAgentProcess?

    override func tearDown() async throws {
        agent?.stop()
        try await super.tearDown()
    }

    private func startAgent(host: String, gatewayPort: Int? = nil) throws {
        let greet: [String: Any] = [
            "name": "greet", "description": "print a greeting on both streams and exit 3",
            "program": "printf 'hello %s\\n' \"$1\"; printf 'oops\\n' >&2; exit 3", "shell": true,
            "args": ["{who}"], "params": [["name": "who", "type": "vps-name"]],
        ]
        agent = try RealAgentProcess(host: host, dataCenter: dataCenter, gatewayPorts: gatewayPort.map { [$0] }, actions: [greet])
    }

    func testRealAgentReportsAndRunsAJob() async throws {
        dataCenter = try DataCenterTestCluster(hosts: ["real-1"])
        let person = try await dataCenter.operatorClient()
        try startAgent(host: "real-1")
        let online = try await person.event(.hostOnline, as: HostPresence.self, timeout: .seconds(30))
        XCTAssertEqual(online.host, "real-1")
        let change = try await person.event(.hostChanged, as: HostChange.self, timeout: .seconds(30))
        XCTAssertEqual(change.host, "real-1")

        let actions = try await person.call(.actionsList, HostQuery(host: "real-1"), as: ActionsListReply.self).actions
        XCTAssertEqual(actions.map(\.name), ["greet"])
        let job = try await person.call(.jobsRun, JobsRunRequest(host: "real-1", action: "greet", params: ["who": "vps7"]), as: JobReply.self).job
        let ended = try await person.jobState(job.id, .failed, timeout: .seconds(30))
        XCTAssertEqual(ended.exitCode, 3)
        let shown = try await person.call(.jobsShow, JobQuery(job: job.id), as: JobDetailReply.self)
        let stdout = shown.output.filter { $0.stream == .stdout }.map(\.data).joined()
        let stderr = shown.output.filter { $0.stream == .stderr }.map(\.data).joined()
        XCTAssertEqual(stdout, "hello vps7\n")
        XCTAssertEqual(stderr, "oops\n")
        XCTAssertEqual(shown.output.map(\.seq), Array(0..<shown.output.count))
    }

    func testFrozenAgentGoesOfflineWithinTheGatewayHeartbeat() async throws {
        dataCenter = try DataCenterTestCluster(hosts: ["real-1"])
        // The agent reports every second, so a heartbeat that closes after 2 s of silence spares it while it runs.
        let policed = try dataCenter.cluster.startGateway(extraArguments: ["--ping-interval", "1", "--ping-not-response-limit", "2"])
        try dataCenter.workers[0].waitForOutput(containing: "linked to gateway \(policed.lanAddress)", timeout: .seconds(20))
        let person = try await dataCenter.operatorClient()
        try startAgent(host: "real-1", gatewayPort: policed.publicPort)
        _ = try await person.event(.hostOnline, as: HostPresence.self, timeout: .seconds(30))
        let agent = try XCTUnwrap(agent?.process)
        defer { agent.thaw() }

        try agent.freeze()
        let frozenAt = ContinuousClock.now
        let offline = try await person.event(.hostOffline, as: HostPresence.self, timeout: .seconds(20))
        XCTAssertEqual(offline.host, "real-1")
        XCTAssertLessThan(ContinuousClock.now - frozenAt, .seconds(6), "offline later than the heartbeat limit allows")
    }
}
