import ClusterTesting
import Foundation
import XCTest

/// A real `datacentered agent` for one host of a ``DataCenterTestCluster``, with its own token file,
/// state directory and allow-list, reporting every second. `stop()` ends it and removes its files.
final class RealAgentProcess: @unchecked Sendable {
    let process: ManagedProcess
    private let directory: String

    /// - Parameters:
    ///   - gatewayPorts: the gateways in its list (the cluster's first one when nil).
    ///   - actions: the allow-list, as the agent's config file spells it.
    init(host: String, dataCenter: DataCenterTestCluster, gatewayPorts: [Int]? = nil, actions: [[String: Any]]) throws {
        directory = NSTemporaryDirectory() + "real-agent-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let token = directory + "/token"
        try XCTUnwrap(dataCenter.agentTokens[host]).write(toFile: token, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: token)
        let config: [String: Any] = [
            "host": host, "gateways": (gatewayPorts ?? [dataCenter.gateway.publicPort]).map { "ws://127.0.0.1:\($0)/" }, "allowPlainWebSocket": true,
            "tokenFile": token, "stateDirectory": directory + "/state", "inventory": ["searchPath": false],
            "reports": ["hostInfoSeconds": 1, "cpuSeconds": 1, "bandwidthSeconds": 1, "inventorySeconds": 1],
            "actions": actions,
        ]
        let path = directory + "/agent.json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        process = try ManagedProcess(executable: TestCluster.binaryPath, arguments: ["agent", "--config", path, "--log-level", "debug"])
    }

    func stop() {
        process.terminate()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
