import ClusterTesting
import DataCenter
import DataCenterProtocol
import Foundation
import XCTest

/// memcached, one gateway (WebSocket and text port) and workers running the datacenter handler, with a
/// token file holding an operator, a service and the agents of `hosts`.
final class DataCenterTestCluster: @unchecked Sendable {
    static let actions = [
        ActionSpec(name: "uptime", description: "print the uptime"),
        ActionSpec(
            name: "vps.restart", description: "restart a VPS",
            params: [ActionParameter(name: "vps", type: .vpsName), ActionParameter(name: "mode", type: .enum, required: false, values: ["soft", "hard"])]),
    ]

    let cluster: TestCluster
    let gateway: TestCluster.Gateway
    let textPort: Int
    let tokenFile: String
    let operatorToken: String
    let serviceToken: String
    private(set) var agentTokens: [String: String] = [:]
    private(set) var workers: [ManagedProcess] = []
    private let workerArguments: [String]

    /// - Parameters:
    ///   - workers: how many workers to start now.
    ///   - sweepInterval: seconds between the cluster-wide sweeps.
    ///   - relayTimeout: seconds a request sent on to a connected agent waits for its answer.
    ///   - metricsPort: when given, the first worker serves `/metrics` there.
    ///   - workerArguments: more command-line arguments of every worker.
    init(
        hosts: [String] = ["node-1"], workers: Int = 1, sweepInterval: Double = 0.5, jobGrace: Int = 1, relayTimeout: Double = 10,
        metricsPort: Int? = nil, workerArguments extraWorkerArguments: [String] = []
    ) throws {
        cluster = try TestCluster()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dc-tokens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        tokenFile = directory.appendingPathComponent("tokens.json").path
        var tokens = TokenHashFile()
        operatorToken = tokens.issue(name: "alice", role: .operator, graceSeconds: nil)
        serviceToken = tokens.issue(name: "backup", role: .service, graceSeconds: nil)
        for host in hosts { agentTokens[host] = tokens.issue(name: host, role: .agent, graceSeconds: nil) }
        try tokens.save(to: tokenFile)

        textPort = freeTCPPort()
        gateway = try cluster.startGateway(extraArguments: ["--listen-text", "127.0.0.1:\(textPort)"])
        workerArguments = [
            "--tokens", tokenFile, "--sweep-interval", "\(sweepInterval)", "--job-grace", "\(jobGrace)", "--relay-timeout", "\(relayTimeout)",
        ] + extraWorkerArguments
        for index in 0..<workers {
            let metrics = metricsPort.flatMap { index == 0 ? ["--metrics", "127.0.0.1:\($0)"] : nil } ?? []
            try startWorker(extraArguments: metrics)
        }
    }

    /// Starts one more datacenter worker and waits until it is linked to the gateway.
    @discardableResult
    func startWorker(extraArguments: [String] = []) throws -> ManagedProcess {
        let worker = try cluster.startWorker(
            name: "dc\(workers.count + 1)", handler: "datacenter", extraArguments: workerArguments + extraArguments)
        try cluster.waitUntilLinked(worker, to: gateway)
        workers.append(worker)
        return worker
    }

    func agent(_ host: String = "node-1", actions: [ActionSpec] = DataCenterTestCluster.actions, timers: [TimerSpec]? = nil) async throws
        -> EnvelopeTestClient
    {
        try await EnvelopeTestClient.agent(port: gateway.publicPort, host: host, token: agentTokens[host] ?? "none", actions: actions, timers: timers)
    }

    func operatorClient() async throws -> EnvelopeTestClient {
        try await EnvelopeTestClient.operatorClient(port: gateway.publicPort, token: operatorToken)
    }

    func stop() {
        cluster.stopAll()
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: tokenFile).deletingLastPathComponent().path)
    }
}

/// A test case with a datacenter cluster that is stopped after each test.
class DataCenterTestCase: XCTestCase {
    var dataCenter: DataCenterTestCluster!

    override func tearDown() async throws {
        dataCenter?.stop()
    }
}
