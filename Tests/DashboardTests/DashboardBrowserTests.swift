import ClusterTesting
import Foundation
import XCTest

/// The dashboard in a real browser (Debian's headless Chromium through Selenium) against a real
/// cluster: memcached, a gateway serving the page over https and the cluster over wss, a worker
/// running the datacenter handler, and host agents. The Python scripts in `Browser/` drive the
/// page; this class runs the cluster and does what the scripts ask for (stop the gateway, kill an
/// agent). Screenshots of every step go to a folder that the test prints.
final class DashboardBrowserTests: XCTestCase {
    private var cluster: TestCluster!
    private var authority: TestCertificateAuthority!
    private var workDirectory: URL!

    override func setUp() async throws {
        cluster = try TestCluster()
        authority = try TestCertificateAuthority()
        workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("dashboard-browser-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    private static let browserScripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Browser")

    private var tokenFile: String { workDirectory.appendingPathComponent("tokens.json").path }

    /// A new token from the real CLI, its hash added to the token file the workers read.
    private func issueToken(role: String, name: String) throws -> String {
        let outcome = try CommandRunner.run(TestCluster.binaryPath, ["token", "issue", "--role", role, "--name", name, "--file", tokenFile])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        return outcome.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The base64 SHA-256 of the test server's public key: Chromium accepts that certificate (and no
    /// other) without the test CA in a system trust store.
    private func serverKeyPin() throws -> String {
        let pipeline = "openssl x509 -in '\(authority.serverChainPath)' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64"
        let outcome = try CommandRunner.run("/bin/sh", ["-c", pipeline])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        return outcome.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A gateway with ws and wss (the page over https), and a datacenter worker linked to it.
    private func startCentralSide() throws -> (gateway: TestCluster.Gateway, securePort: Int, worker: ManagedProcess) {
        let securePort = freeTCPPort()
        let gateway = try cluster.startGateway(
            extraArguments: ["--listen-tls", "127.0.0.1:\(securePort)", "--tls-certificate", authority.serverChainPath, "--tls-key", authority.serverKeyPath]
        )
        let worker = try cluster.startWorker(name: "central", handler: "datacenter", extraArguments: ["--tokens", tokenFile])
        try cluster.waitUntilLinked(worker, to: gateway)
        return (gateway, securePort, worker)
    }

    /// A real `datacentered agent` per host, over wss verified against the test root, allowing two
    /// actions: `echo` (prints its text) and `sleep` (runs until cancelled, for the cancel step).
    private func startAgents(_ tokens: [String: String], securePort: Int) throws -> [String: ManagedProcess] {
        try tokens.reduce(into: [:]) { agents, entry in
            let (host, token) = entry
            let directory = workDirectory.appendingPathComponent("agent-\(host)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let tokenPath = directory.appendingPathComponent("agent.token").path
            guard FileManager.default.createFile(atPath: tokenPath, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown)
            }
            let configPath = directory.appendingPathComponent("agent.json").path
            try json([
                "gateways": ["wss://127.0.0.1:\(securePort)/"],
                "caFile": authority.rootCertificatePath,
                "actions": [
                    ["name": "echo", "description": "Print a text", "program": "/bin/echo", "args": ["{text}"], "params": [["name": "text", "type": "string"]]],
                    ["name": "sleep", "description": "Sleep a number of seconds", "program": "/bin/sleep", "args": ["{seconds}"], "params": [["name": "seconds", "type": "int"]]],
                ],
            ]).write(toFile: configPath, atomically: true, encoding: .utf8)
            let agent = try ManagedProcess(
                executable: TestCluster.binaryPath,
                arguments: ["agent", "--config", configPath, "--host", host, "--token-file", tokenPath, "--state-directory", directory.appendingPathComponent("state").path],
                logPath: directory.appendingPathComponent("agent.log").path
            )
            try agent.waitForOutput(containing: "connected to gateway", timeout: .seconds(30))
            agents[host] = agent
        }
    }

    private func python(_ script: String, _ arguments: [String], log name: String) throws -> ManagedProcess {
        try ManagedProcess(
            executable: "/usr/bin/env",
            arguments: ["python3", "-u", Self.browserScripts.appendingPathComponent(script).path] + arguments,
            logPath: workDirectory.appendingPathComponent("\(name).log").path
        )
    }

    private func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    private func screenshots() throws -> String {
        let directory = workDirectory.appendingPathComponent("screenshots").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        print("dashboard screenshots: \(directory)")
        return directory
    }

    func testOperatorWalkthroughInChromium() throws {
        let operatorToken = try issueToken(role: "operator", name: "admin")
        let agentTokens = try Dictionary(uniqueKeysWithValues: ["alpha", "beta"].map { ($0, try issueToken(role: "agent", name: $0)) })
        let (gateway, securePort, worker) = try startCentralSide()
        let agents = try startAgents(agentTokens, securePort: securePort)
        // A timer on alpha's agent (once an hour: it does not run during the test), for the host view.
        let timer = try CommandRunner.run(
            TestCluster.binaryPath,
            ["jobs", "timers", "add", "alpha", "nightly-echo", "3600", "echo", "text=nightly", "--gateway", "wss://127.0.0.1:\(securePort)/",
             "--ca-file", authority.rootCertificatePath],
            environment: ["DATACENTERED_TOKEN": operatorToken], timeout: .seconds(40))
        XCTAssertEqual(timer.status, 0, timer.output)

        let control = workDirectory.appendingPathComponent("control")
        try FileManager.default.createDirectory(at: control, withIntermediateDirectories: true)
        let config = try json([
            "url": "https://127.0.0.1:\(securePort)/",
            "token": operatorToken,
            "serverKeyPin": try serverKeyPin(),
            "screenshots": try screenshots(),
            "control": control.path,
            "hosts": ["alpha", "beta"],
            "job": ["host": "alpha", "action": "echo", "params": ["text": "hello from the dashboard"], "expectOutput": "hello from the dashboard"],
            "longJob": ["host": "alpha", "action": "sleep", "params": ["seconds": "300"]],
            "offlineHost": "beta",
            "timer": "nightly-echo",
        ])
        let browser = try python("walkthrough.py", [config], log: "walkthrough")
        defer { browser.terminate() }
        func done(_ step: String) { _ = FileManager.default.createFile(atPath: control.appendingPathComponent(step).path, contents: nil) }

        try browser.waitForOutput(containing: "AWAIT gateway-down", timeout: .seconds(180))
        gateway.process.terminate()
        done("gateway-down")
        try browser.waitForOutput(containing: "AWAIT gateway-up", timeout: .seconds(60))
        try gateway.process.start()
        try gateway.process.waitForPort(port: securePort, timeout: .seconds(20))
        // Until its agent is back, a host may still show online from before the restart, and a
        // cancel for its job waits for the agent to come back.
        for agent in agents.values { try agent.waitForOutput(containing: "connected to gateway", times: 2, timeout: .seconds(60)) }
        done("gateway-up")
        try browser.waitForOutput(containing: "AWAIT kill-agent", timeout: .seconds(90))
        agents["beta"]?.kill()
        done("kill-agent")

        let status = try browser.waitForExit(timeout: .seconds(90))
        XCTAssertEqual(status, 0, browser.logTail(lines: 60))
        XCTAssertTrue(browser.output.contains("PASSED"), browser.logTail(lines: 60))
        for process in [gateway.process, worker] {
            XCTAssertFalse(process.output.contains(operatorToken), "the operator token appears in \(process.logPath)")
        }
    }

    func testTableUpdateTimeWithAThousandHosts() throws {
        let hostCount = 1000
        let agentTokens = workDirectory.appendingPathComponent("agent-tokens.json").path
        let issued = try CommandRunner.run(
            "/usr/bin/env",
            ["python3", Self.browserScripts.appendingPathComponent("simulated_agents.py").path, "--issue", "\(hostCount)", "--tokens", agentTokens, "--token-file", tokenFile]
        )
        XCTAssertEqual(issued.status, 0, issued.output)
        let operatorToken = try issueToken(role: "operator", name: "admin")
        let (gateway, securePort, _) = try startCentralSide()
        let simulated = try python(
            "simulated_agents.py",
            ["--url", "ws://127.0.0.1:\(gateway.publicPort)/", "--tokens", agentTokens, "--seconds", "75", "--period", "5"],
            log: "simulated-agents"
        )
        defer { simulated.terminate() }
        try simulated.waitForOutput(containing: "AGENTS CONNECTED \(hostCount)", timeout: .seconds(60))
        let config = try json([
            "url": "https://127.0.0.1:\(securePort)/",
            "token": operatorToken,
            "serverKeyPin": try serverKeyPin(),
            "hostCount": hostCount,
            "seconds": 15,
            "screenshot": try screenshots() + "/thousand-hosts.png",
        ])
        let browser = try python("load_measurement.py", [config], log: "load-measurement")
        defer { browser.terminate() }
        let status = try browser.waitForExit(timeout: .seconds(150))
        XCTAssertEqual(status, 0, browser.logTail(lines: 40))
        let measured = browser.output.split(separator: "\n").first { $0.hasPrefix("MEASURED") }
        XCTAssertNotNil(measured, browser.logTail(lines: 40))
        print("dashboard table with \(hostCount) hosts: \(measured ?? "no measurement")")
    }
}
