import ClusterTesting
import Foundation
import XCTest

/// `datacentered agent` as a real process: what it refuses to start with.
final class AgentProcessTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "agent-process-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Writes a token (mode `tokenMode`) and a config pointing at a port where nothing listens.
    private func writeConfig(tokenMode: Int) throws -> String {
        let token = directory + "/token"
        try "agent-secret-token".write(toFile: token, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: tokenMode], ofItemAtPath: token)
        let config: [String: Any] = [
            "host": "node-a", "gateways": ["ws://127.0.0.1:\(freeTCPPort())/"], "allowPlainWebSocket": true,
            "tokenFile": token, "stateDirectory": directory + "/state",
            "inventory": ["searchPath": false],
        ]
        let path = directory + "/agent.json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testATokenFileOthersCanReadIsRefused() throws {
        let config = try writeConfig(tokenMode: 0o640)
        let outcome = try CommandRunner.run(TestCluster.binaryPath, ["agent", "--config", config], timeout: .seconds(20))
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.output.contains("readable by its owner only"), outcome.output)
        XCTAssertFalse(outcome.output.contains("agent-secret-token"), "the token is never logged")
    }

    func testASecondAgentOnTheSameStateDirectoryRefusesToStart() throws {
        let config = try writeConfig(tokenMode: 0o600)
        let first = try ManagedProcess(executable: TestCluster.binaryPath, arguments: ["agent", "--config", config, "--log-level", "debug"])
        defer { first.terminate() }
        try first.waitForOutput(containing: "agent for host node-a starting", timeout: .seconds(20))
        let second = try CommandRunner.run(TestCluster.binaryPath, ["agent", "--config", config], timeout: .seconds(20))
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.output.contains("another agent (pid \(first.pid ?? 0))"), second.output)
        XCTAssertTrue(first.isRunning, "the first agent is unaffected")
        XCTAssertFalse(first.output.contains("agent-secret-token"), "the token is never logged")
    }
}
