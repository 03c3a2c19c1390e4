import Foundation
import Supervisor
import XCTest

/// The configuration file, environment variables and flags, read through swift-configuration.
final class ConfigurationLoaderTests: XCTestCase {
    private static let key = ["DATACENTERED_SECRET_KEY": "a-key-of-20-bytes..."]

    private func file(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testTheShippedFileLoadsAndEveryKeyInItIsKnown() async throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Config/datacentered.json").path
        let configuration = try await ConfigurationLoader(filePath: shipped, environment: Self.key).load()
        XCTAssertEqual(configuration.gateway.count, 1)
        XCTAssertEqual(configuration.worker.count, 2)
        XCTAssertEqual(configuration.memcached.servers, ["local"])
        XCTAssertEqual(configuration.roles, [.memcached, .gateway, .worker, .agent])
        XCTAssertEqual(configuration.worker.handler, "datacenter")
        XCTAssertTrue(configuration.supervisor.issueTokens)

        let plan = ClusterPlan(configuration: configuration, executable: "/bin/datacentered")
        let worker = plan.children.first { $0.role == .worker }!.command.joined(separator: " ")
        XCTAssertTrue(worker.contains("--handler datacenter") && worker.contains("--tokens run/tokens.json"), worker)
        let agent = plan.children.first { $0.role == .agent }!.command.joined(separator: " ")
        XCTAssertTrue(agent.contains("--config Config/agent.local.json --gateways ws://127.0.0.1:8282/"), agent)
        XCTAssertTrue(agent.contains("--token-file run/agent.token --state-directory run/agent-state"), agent)

        let echo = shipped.replacingOccurrences(of: "datacentered.json", with: "echo.json")
        let echoConfiguration = try await ConfigurationLoader(filePath: echo, environment: Self.key).load()
        XCTAssertEqual(echoConfiguration.worker.handler, "echo")
        XCTAssertEqual(echoConfiguration.roles, [.memcached, .gateway, .worker])
    }

    func testIssuingTokensNeedsDatacenterWorkersAndALocalGatewayForTheAgent() async throws {
        await assertThrows(
            ConfigurationLoader(filePath: nil, environment: Self.key, flags: ["--supervisor-issue-tokens", "true"]),
            containing: ["supervisor.issueTokens", "worker.handler datacenter"]
        )
        let agentConfig = try file("{}")
        await assertThrows(
            ConfigurationLoader(
                filePath: nil, environment: Self.key,
                flags: [
                    "--supervisor-issue-tokens", "true", "--worker-handler", "datacenter", "--roles", "worker,agent",
                    "--agent-config", agentConfig,
                ]
            ),
            containing: ["supervisor.issueTokens", "gateway.listen"]
        )
        await assertThrows(
            ConfigurationLoader(filePath: nil, environment: Self.key, flags: ["--roles", "agent", "--agent-config", "/nonexistent/agent.json"]),
            containing: ["agent.config", "/nonexistent/agent.json"]
        )
        let tokens = try await ConfigurationLoader(
            filePath: nil, environment: Self.key, flags: ["--worker-handler", "datacenter", "--worker-tokens-file", "/etc/dc/tokens.json"]
        ).load()
        let worker = ClusterPlan(configuration: tokens, executable: "/bin/datacentered").children.first { $0.role == .worker }!
        XCTAssertTrue(worker.command.joined(separator: " ").contains("--tokens /etc/dc/tokens.json"))
    }

    func testConcurrentEventsArePassedToWorkersOnlyWhenSet() async throws {
        func workerCommand(_ flags: [String]) async throws -> String {
            let configuration = try await ConfigurationLoader(filePath: nil, environment: Self.key, flags: flags).load()
            return ClusterPlan(configuration: configuration, executable: "/bin/datacentered").children.first { $0.role == .worker }!
                .command.joined(separator: " ")
        }
        let byDefault = try await workerCommand([])
        XCTAssertFalse(byDefault.contains("--max-concurrent-events"), "0 leaves the handler's default: \(byDefault)")
        let set = try await workerCommand(["--worker-max-concurrent-events", "16"])
        XCTAssertTrue(set.contains("--max-concurrent-events 16"), set)
        await assertThrows(
            ConfigurationLoader(filePath: nil, environment: Self.key, flags: ["--worker-max-concurrent-events", "-1"]),
            containing: ["worker.maxConcurrentEvents", "-1"]
        )
    }

    func testNoFileGivesTheDefaults() async throws {
        let configuration = try await ConfigurationLoader(filePath: nil, environment: Self.key).load()
        var expected = SupervisorConfiguration()
        expected.secretKey = "a-key-of-20-bytes..."
        XCTAssertEqual(configuration, expected)
    }

    func testAFlagBeatsAnEnvironmentVariableWhichBeatsTheFile() async throws {
        let path = try file(#"{"gateway": {"count": 2, "lanStartPort": 3000}, "worker": {"count": 5, "handler": "probe"}}"#)
        let environment = ["DATACENTERED_GATEWAY_COUNT": "3", "DATACENTERED_WORKER_COUNT": "6", "DATACENTERED_SECRET_KEY": "0123456789abcdefk"]
        let configuration = try await ConfigurationLoader(filePath: path, environment: environment, flags: ["--gateway-count", "4"]).load()
        XCTAssertEqual(configuration.gateway.count, 4, "flag")
        XCTAssertEqual(configuration.worker.count, 6, "environment")
        XCTAssertEqual(configuration.worker.handler, "probe", "file")
        XCTAssertEqual(configuration.gateway.lanStartPort, 3000, "file")
        XCTAssertEqual(configuration.gateway.router, "sticky", "default")
        XCTAssertEqual(configuration.secretKey, "0123456789abcdefk")
    }

    func testAnInvalidValueNamesTheKeyTheValueAndWhatIsAllowed() async throws {
        let path = try file(#"{"gateway": {"count": 0}}"#)
        do {
            _ = try await ConfigurationLoader(filePath: path, environment: Self.key).load()
            XCTFail("a gateway count of 0 was accepted")
        } catch let error as ConfigurationError {
            XCTAssertEqual(error, .invalidValue(key: "gateway.count", value: "0", allowed: "an integer from 1 to 256"))
        }
        let router = try file(#"{"gateway": {"router": "fastest"}}"#)
        await assertThrows(ConfigurationLoader(filePath: router, environment: Self.key), containing: ["gateway.router", "fastest", "sticky"])
    }

    func testAValueOfTheWrongTypeNamesTheKey() async throws {
        let path = try file(#"{"worker": {"count": "many"}}"#)
        await assertThrows(ConfigurationLoader(filePath: path, environment: Self.key), containing: ["worker.count", "many", "an integer"])
        await assertThrows(
            ConfigurationLoader(filePath: nil, environment: Self.key.merging(["DATACENTERED_SUPERVISOR_STOP_GRACE_SECONDS": "soon"]) { $1 }),
            containing: ["supervisor.stopGraceSeconds", "a number"]
        )
    }

    func testAnUnknownKeyInTheFileIsReported() async throws {
        let path = try file(#"{"gateway": {"count": 1, "lanPort": 2900}, "workers": 3}"#)
        do {
            _ = try await ConfigurationLoader(filePath: path, environment: Self.key).load()
            XCTFail("unknown keys were accepted")
        } catch let error as ConfigurationError {
            XCTAssertEqual(error, .unknownKeys(["gateway.lanPort", "workers"], source: path))
        }
    }

    func testAnUnknownFlagIsReported() async throws {
        await assertThrows(
            ConfigurationLoader(filePath: nil, environment: Self.key, flags: ["--gateway-cuont", "3"]),
            containing: ["--gateway-cuont", "the command line"]
        )
    }

    func testMemcachedOnAnotherMachineTurnsTheLocalOneOff() async throws {
        let path = try file(#"{"roles": ["worker"], "memcached": {"servers": ["10.0.0.5:11211", "10.0.0.6:11211"]}}"#)
        let configuration = try await ConfigurationLoader(filePath: path, environment: Self.key).load()
        XCTAssertFalse(configuration.memcached.isLocal)
        let plan = ClusterPlan(configuration: configuration, executable: "/bin/datacentered")
        XCTAssertEqual(plan.children.map(\.name), ["worker-0", "worker-1"])
        XCTAssertTrue(plan.children[0].command.joined(separator: " ").contains("--memcached 10.0.0.5:11211,10.0.0.6:11211"))

        let local = try file(#"{"roles": ["memcached", "gateway"], "memcached": {"servers": ["10.0.0.5:11211"]}}"#)
        await assertThrows(ConfigurationLoader(filePath: local, environment: Self.key), containing: ["roles", "memcached"])
    }

    func testGatewaysGetConsecutiveInternalPortsAndShareThePublicOne() async throws {
        let configuration = try await ConfigurationLoader(
            filePath: nil, environment: Self.key, flags: ["--gateway-count", "3", "--gateway-lan-start-port", "4000", "--gateway-listen-text", "127.0.0.1:2800"]
        ).load()
        let plan = ClusterPlan(configuration: configuration, executable: "/bin/datacentered")
        let gateways = plan.children.filter { $0.role == .gateway }
        XCTAssertEqual(gateways.count, 3)
        for (index, gateway) in gateways.enumerated() {
            let command = gateway.command.joined(separator: " ")
            XCTAssertTrue(command.contains("--lan-port \(4000 + index)"), command)
            XCTAssertTrue(command.contains("--listen-text 127.0.0.1:\(2800 + index)"), command)
            XCTAssertTrue(command.contains("--reuse-port"), command)
            XCTAssertTrue(command.contains("--listen 0.0.0.0:8282"), command)
        }
    }

    func testLinkTLSKeysBecomeTheGatewayAndWorkerFlags() async throws {
        let pem = try file("not checked here")
        let configuration = try await ConfigurationLoader(
            filePath: nil, environment: Self.key,
            flags: ["--gateway-link-certificate", pem, "--gateway-link-key", pem, "--worker-link-ca", pem]
        ).load()
        let plan = ClusterPlan(configuration: configuration, executable: "/bin/datacentered")
        let gateway = plan.children.first { $0.role == .gateway }!.command.joined(separator: " ")
        XCTAssertTrue(gateway.contains("--link-tls-certificate \(pem) --link-tls-key \(pem)"), gateway)
        let worker = plan.children.first { $0.role == .worker }!.command.joined(separator: " ")
        XCTAssertTrue(worker.contains("--link-tls-ca \(pem)"), worker)
        await assertThrows(
            ConfigurationLoader(filePath: nil, environment: Self.key, flags: ["--gateway-link-certificate", pem]),
            containing: ["gateway.linkKey", "go together"]
        )
    }

    func testTheSecretKeyIsPassedInTheEnvironmentNeverOnTheCommandLine() async throws {
        let configuration = try await ConfigurationLoader(filePath: nil, environment: ["DATACENTERED_SECRET_KEY": "s3cr3t-s3cr3t-s3cr3t"]).load()
        let plan = ClusterPlan(configuration: configuration, executable: "/bin/datacentered")
        for child in plan.children where child.role != .memcached {
            XCTAssertFalse(child.command.contains("s3cr3t-s3cr3t-s3cr3t"))
            XCTAssertEqual(child.environment["DATACENTERED_SECRET_KEY"], "s3cr3t-s3cr3t-s3cr3t")
        }
    }

    func testAMissingOrShortSecretKeyIsRefusedWithoutShowingIt() async throws {
        await assertThrows(ConfigurationLoader(filePath: nil, environment: [:]), containing: ["'secretKey'", "empty", "at least 16 bytes"])
        let short = ConfigurationLoader(filePath: nil, environment: ["DATACENTERED_SECRET_KEY": "hunter2"])
        await assertThrows(short, containing: ["'secretKey'", "7 bytes long"])
        do {
            _ = try await short.load()
        } catch {
            XCTAssertFalse("\(error)".contains("hunter2"))
        }
        let memcachedOnly = try await ConfigurationLoader(filePath: nil, environment: [:], flags: ["--roles", "memcached"]).load()
        XCTAssertEqual(memcachedOnly.roles, [.memcached])
    }

    private func assertThrows(_ loader: ConfigurationLoader, containing parts: [String], line: UInt = #line) async {
        do {
            _ = try await loader.load()
            XCTFail("no error", line: line)
        } catch {
            let text = "\(error)"
            for part in parts { XCTAssertTrue(text.contains(part), "'\(part)' not in: \(text)", line: line) }
        }
    }
}
