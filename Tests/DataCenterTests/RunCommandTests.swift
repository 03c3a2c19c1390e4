import ClusterTesting
import DataCenterProtocol
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// The README's run command: `datacentered start` with the shipped Config/datacentered.json (only its
/// ports and directories overridden) starts the whole product on this machine, this host's agent
/// included, and prints the dashboard's address and an operator token that signs in.
final class RunCommandTests: XCTestCase {
    func testTheShippedConfigurationShowsThisHostOnlineToTheOperatorTokenItPrints() async throws {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-command-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let publicPort = freeTCPPort()
        let logDirectory = directory.appendingPathComponent("log").path
        let runDirectory = directory.appendingPathComponent("run").path
        let master = try ManagedProcess(
            executable: TestCluster.binaryPath,
            arguments: [
                "start", "--config", packageRoot.appendingPathComponent("Config/datacentered.json").path,
                "--gateway-listen", "127.0.0.1:\(publicPort)", "--gateway-lan-start-port", String(freeTCPPort()),
                "--gateway-listen-text", "127.0.0.1:\(freeTCPPort())", "--memcached-local-port", String(freeTCPPort()),
                "--memcached-key-prefix", "run\(UUID().uuidString.prefix(6))", "--supervisor-metrics-listen", "127.0.0.1:\(freeTCPPort())",
                "--supervisor-run-directory", runDirectory, "--supervisor-log-directory", logDirectory,
            ],
            environment: ["DATACENTERED_SECRET_KEY": "run-command-test-\(UUID().uuidString.prefix(8))"],
            logPath: directory.appendingPathComponent("terminal.log").path
        )
        addTeardownBlock {
            master.terminate(timeout: .seconds(20))
            try? FileManager.default.removeItem(at: directory)
        }
        try master.waitForOutput(containing: "operator token:", timeout: .seconds(60))

        let terminal = master.output
        XCTAssertTrue(terminal.contains("dashboard:       http://127.0.0.1:\(publicPort)/"), terminal)
        let tokenLine = try XCTUnwrap(terminal.split(separator: "\n").first { $0.contains("operator token:") })
        let token = String(tokenLine.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces)
        XCTAssertFalse(token.isEmpty)
        XCTAssertEqual(terminal.components(separatedBy: token).count - 1, 1, "the token is printed once and never logged")
        let tokenFile = try String(contentsOfFile: runDirectory + "/tokens.json", encoding: .utf8)
        XCTAssertFalse(tokenFile.contains(token), "the token file keeps hashes only")
        let agentTokenMode = try FileManager.default.attributesOfItem(atPath: runDirectory + "/agent.token")[.posixPermissions] as? Int
        XCTAssertEqual(agentTokenMode, 0o600)

        // The page answers on the gateway's public port.
        let (page, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(publicPort)/")!)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        XCTAssertTrue(String(decoding: page, as: UTF8.self).contains("<html"))

        // The operator signs in with the printed token and sees this machine online.
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        let operatorClient = try await EnvelopeTestClient.operatorClient(port: publicPort, token: token)
        let deadline = ContinuousClock.now + .seconds(30)
        var hosts: [HostSummary] = []
        while ContinuousClock.now < deadline {
            hosts = try await operatorClient.call(.hostsList, EmptyPayload(), as: HostsListReply.self).hosts
            if hosts.contains(where: { $0.host == host && $0.online }) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTAssertTrue(hosts.contains { $0.host == host && $0.online }, "\(hosts)\n\(master.logTail(lines: 60))")
        await operatorClient.close()
    }
}
