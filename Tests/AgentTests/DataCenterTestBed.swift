import ClusterTesting
import Foundation
import XCTest

/// A real datacenter for end-to-end tests: memcached, gateways and a worker running the central
/// handler (`--handler datacenter`), its token file, and host agents started as `datacentered agent`
/// processes with fixture inventory commands and fixture actions.
final class DataCenterTestBed {
    let cluster: TestCluster
    let directory: String
    let tokenFile: String
    let operatorToken: String
    private(set) var gateways: [TestCluster.Gateway] = []
    /// The workers running the central handler.
    private(set) var workers: [ManagedProcess] = []
    var worker: ManagedProcess { workers[0] }
    private var agentTokens: [String: String] = [:]

    /// - Parameter hosts: the agents' host names, whose tokens are issued before the worker starts.
    init(gateways count: Int = 1, workers workerCount: Int = 1, hosts: [String]) throws {
        cluster = try TestCluster()
        directory = NSTemporaryDirectory() + "datacenter-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        tokenFile = directory + "/tokens.json"
        operatorToken = try Self.issue(role: "operator", name: "tester", file: tokenFile)
        for host in hosts { agentTokens[host] = try Self.issue(role: "agent", name: host, file: tokenFile) }
        for _ in 0..<count { gateways.append(try cluster.startGateway()) }
        for index in 0..<workerCount {
            let worker = try cluster.startWorker(
                name: "dc\(index + 1)", handler: "datacenter",
                extraArguments: ["--tokens", tokenFile, "--sweep-interval", "0.5", "--report-periods", "1,0.5,0.5,0.5"]
            )
            for gateway in gateways { try cluster.waitUntilLinked(worker, to: gateway) }
            workers.append(worker)
        }
    }

    deinit {
        cluster.stopAll()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// An operator connection to the gateway `index`.
    func console(gateway index: Int = 0) async throws -> OperatorConsole {
        try await OperatorConsole.connect(port: gateways[index].publicPort, token: operatorToken)
    }

    /// Writes `host`'s agent config and token and starts the agent.
    /// - Parameters:
    ///   - gatewayIndexes: the gateways in its list, in order.
    ///   - environment: extra environment (the fixture virsh reads `FAKE_VIRSH_DOMAINS`).
    func startAgent(host: String, gatewayIndexes: [Int]? = nil, environment: [String: String] = [:], jobs: [String: Any] = [:]) throws -> ManagedProcess {
        let home = directory + "/agent-\(host)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let token = home + "/token"
        try agentTokens[host, default: "no-token"].write(toFile: token, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: token)
        let urls = (gatewayIndexes ?? Array(gateways.indices)).map { "ws://127.0.0.1:\(gateways[$0].publicPort)/" }
        var jobLimits: [String: Any] = ["cancelGraceSeconds": 0.5, "maxConcurrent": 4]
        jobLimits.merge(jobs) { $1 }
        let config: [String: Any] = [
            "host": host, "gateways": urls, "allowPlainWebSocket": true, "tokenFile": token, "stateDirectory": home + "/state",
            "reports": ["hostInfoSeconds": 1, "cpuSeconds": 0.5, "bandwidthSeconds": 0.5, "inventorySeconds": 0.5],
            "connection": ["pingSeconds": 1, "silenceTimeoutSeconds": 5, "backoffInitialSeconds": 0.1, "backoffMaxSeconds": 1],
            "inventory": ["virsh": AgentFixtures.bin("fake-virsh"), "searchPath": false],
            "jobs": jobLimits,
            "actions": Self.actions,
        ]
        let path = home + "/agent.json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        let process = try ManagedProcess(
            executable: TestCluster.binaryPath, arguments: ["agent", "--config", path, "--log-level", "debug"], environment: environment
        )
        try process.waitForOutput(containing: "connected to gateway", timeout: .seconds(20))
        return process
    }

    static var actions: [[String: Any]] {
        [
        [
            "name": "numbered", "description": "numbered lines on stdout and stderr, a pause, an exit code",
            "program": AgentFixtures.bin("numbered-output"), "args": ["{count}", "{sleep}", "{code}"],
            "params": [["name": "count", "type": "int"], ["name": "sleep", "type": "int"], ["name": "code", "type": "int"]],
        ],
        [
            "name": "ticker", "description": "a numbered line every interval",
            "program": AgentFixtures.bin("ticker"), "args": ["{count}", "{interval}"],
            "params": [["name": "count", "type": "int"], ["name": "interval", "type": "enum", "values": ["0.05", "0.1"]]],
        ],
        ["name": "cat", "description": "stdin to stdout", "program": "/bin/cat"],
        [
            "name": "vps.echo", "description": "echo a VPS name",
            "program": "/bin/echo", "args": ["{vps}"], "params": [["name": "vps", "type": "vps-name"]],
        ],
        ]
    }

    private static func issue(role: String, name: String, file: String) throws -> String {
        let outcome = try CommandRunner.run(TestCluster.binaryPath, ["token", "issue", "--role", role, "--name", name, "--file", file])
        guard outcome.status == 0 else { throw OperatorConsole.Failure(description: "token issue failed: \(outcome.output)") }
        return outcome.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
