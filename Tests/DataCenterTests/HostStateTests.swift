import ClusterTesting
import DataCenterProtocol
import XCTest

/// Host reports and presence across workers: stored in memcached, pushed to operators only when they change.
final class HostStateTests: DataCenterTestCase {
    func testOperatorsGetOnlyChangesAndAnyWorkerAnswers() async throws {
        dataCenter = try DataCenterTestCluster(workers: 1)
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()
        let online = try await person.event(.hostOnline, as: HostPresence.self)
        XCTAssertEqual(online.host, "node-1")

        try await agent.sendEvent(.reportCPU, CPUReport(total: 12.5, cores: [10, 15]))
        let first = try await person.event(.hostChanged, as: HostChange.self)
        XCTAssertEqual(first.cpu, CPUReport(total: 12.5, cores: [10, 15]))
        XCTAssertNil(first.info)

        // The same figures again change nothing: no event. Then new figures: only they come.
        try await agent.sendEvent(.reportCPU, CPUReport(total: 12.5, cores: [10, 15]))
        try await agent.sendEvent(.reportVPS, VPSReport(vps: [VPSEntry(name: "vps101", state: "running", technology: "lxc", ips: ["10.0.0.5"])], ipMap: ["10.0.0.5": "vps101"]))
        let second = try await person.event(.hostChanged, as: HostChange.self)
        XCTAssertNil(second.cpu, "unchanged cpu was sent again")
        XCTAssertEqual(second.vps?.map(\.name), ["vps101"])
        XCTAssertEqual(second.ipMap, ["10.0.0.5": "vps101"])
        let nothing = await person.receivesNothing(within: .milliseconds(300)) { $0.kind == .event(name: "host.changed") }
        XCTAssertTrue(nothing)

        // A second worker, then the first one gone: the state is in memcached, not in a worker.
        try dataCenter.startWorker()
        dataCenter.workers[0].terminate()
        let fresh = try await dataCenter.operatorClient()
        let shown = try await fresh.call(.hostsShow, HostQuery(host: "node-1"), as: HostsShowReply.self).host
        XCTAssertTrue(shown.online)
        XCTAssertEqual(shown.cpu?.total, 12.5)
        XCTAssertEqual(shown.vps?.count, 1)
        let list = try await fresh.call(.hostsList, EmptyPayload(), as: HostsListReply.self).hosts
        XCTAssertEqual(list.map(\.host), ["node-1"])
        XCTAssertEqual(list.first?.vpsCount, 1)
        let actions = try await fresh.call(.actionsList, HostQuery(host: "node-1"), as: ActionsListReply.self).actions
        XCTAssertEqual(actions, DataCenterTestCluster.actions)
        _ = agent
    }

    func testReportAfterAWorkerRestartIsComparedWithWhatMemcachedHolds() async throws {
        dataCenter = try DataCenterTestCluster(workers: 1)
        let person = try await dataCenter.operatorClient()
        let agent = try await dataCenter.agent()
        _ = try await person.event(.hostOnline, as: HostPresence.self)
        try await agent.sendEvent(.reportCPU, CPUReport(total: 40, cores: [40]))
        let first = try await person.event(.hostChanged, as: HostChange.self)
        XCTAssertEqual(first.cpu?.total, 40)
        let reported = try await person.call(.hostsShow, HostQuery(host: "node-1"), as: HostsShowReply.self).host

        // The agent's reports now reach a worker that has seen none of them.
        try dataCenter.startWorker()
        dataCenter.workers[0].terminate()
        try await agent.sendEvent(.reportCPU, CPUReport(total: 40, cores: [40]))
        try await agent.sendEvent(.reportCPU, CPUReport(total: 55, cores: [55]))
        let change = try await person.event(.hostChanged, as: HostChange.self)
        XCTAssertEqual(change.cpu?.total, 55, "the unchanged report was pushed, or the changed one was not")
        XCTAssertNil(change.vps)
        let shown = try await person.call(.hostsShow, HostQuery(host: "node-1"), as: HostsShowReply.self).host
        XCTAssertTrue(shown.online)
        XCTAssertEqual(shown.cpu?.total, 55)
        XCTAssertGreaterThan(try XCTUnwrap(shown.lastReportAt), try XCTUnwrap(reported.lastReportAt))
        let nothing = await person.receivesNothing(within: .milliseconds(300)) { $0.kind == .event(name: "host.changed") }
        XCTAssertTrue(nothing)
    }

    func testHostGoesOfflineWhenItsAgentGoes() async throws {
        dataCenter = try DataCenterTestCluster(hosts: ["node-1", "node-2"])
        let person = try await dataCenter.operatorClient()
        let closing = try await dataCenter.agent("node-1")
        let dropping = try await dataCenter.agent("node-2")
        for _ in 0..<2 { _ = try await person.event(.hostOnline, as: HostPresence.self) }

        await closing.close()
        let firstOffline = try await person.event(.hostOffline, as: HostPresence.self).host
        XCTAssertEqual(firstOffline, "node-1")
        await dropping.abort()
        let secondOffline = try await person.event(.hostOffline, as: HostPresence.self).host
        XCTAssertEqual(secondOffline, "node-2")

        let stats = try await person.call(.clusterStats, EmptyPayload(), as: ClusterStatsReply.self)
        XCTAssertEqual(stats.hosts, 2)
        XCTAssertEqual(stats.agentsOnline, 0)
        XCTAssertEqual(stats.gateways, 1)
        XCTAssertEqual(stats.clients, 1)
        let list = try await person.call(.hostsList, EmptyPayload(), as: HostsListReply.self).hosts
        XCTAssertEqual(list.map(\.online), [false, false])
    }

    func testHostGoesOfflineWhenItsGatewayDies() async throws {
        dataCenter = try DataCenterTestCluster(sweepInterval: 0.5)
        let second = try dataCenter.cluster.startGateway()
        try dataCenter.workers[0].waitForOutput(containing: "linked to gateway \(second.lanAddress)", timeout: .seconds(20))
        let person = try await dataCenter.operatorClient()
        let agent = try await EnvelopeTestClient.agent(
            port: second.publicPort, host: "node-1", token: try XCTUnwrap(dataCenter.agentTokens["node-1"]), actions: [])
        _ = try await person.event(.hostOnline, as: HostPresence.self)

        // No close event comes from a gateway killed with -9: the sweep finds the host unbound.
        second.process.kill()
        let offline = try await person.event(.hostOffline, as: HostPresence.self, timeout: .seconds(20))
        XCTAssertEqual(offline.host, "node-1")
        _ = agent
    }
}
