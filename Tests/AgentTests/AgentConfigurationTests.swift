import DataCenterProtocol
import Foundation
import XCTest

@testable import Agent

/// The config file, the token file's permissions and the state directory's lock.
final class AgentConfigurationTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "agent-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testAFileNamesOnlyWhatDiffersFromTheDefaults() throws {
        let json = """
            {"gateways": ["wss://gw1.example:8283/"], "jobs": {"maxConcurrent": 2},
             "actions": [{"name": "vps.restart", "program": "/usr/bin/virsh", "args": ["reboot", "{vps}"],
                          "params": [{"name": "vps", "type": "vps-name"}]}]}
            """
        let configuration = try AgentConfiguration.decode(Data(json.utf8))
        XCTAssertEqual(configuration.jobs.maxConcurrent, 2)
        XCTAssertEqual(configuration.jobs.defaultTimeoutSeconds, 600, "a key absent inside a section keeps its default")
        XCTAssertEqual(configuration.reports.cpuSeconds, 10)
        XCTAssertEqual(configuration.actions[0].spec.params[0].required, true)
        XCTAssertEqual(configuration.actions[0].shell, false)
        XCTAssertNoThrow(try configuration.validate())
    }

    func testTheAgentSectionOfTheSupervisorsFileIsRead() throws {
        let json = """
            {"roles": ["gateway", "worker", "agent"], "gateway": {"count": 1},
             "agent": {"extraArguments": [], "gateways": ["ws://127.0.0.1:8282/"], "allowPlainWebSocket": true, "host": "node-1"}}
            """
        let configuration = try AgentConfiguration.decode(Data(json.utf8))
        XCTAssertEqual(configuration.gateways, ["ws://127.0.0.1:8282/"])
        XCTAssertEqual(configuration.host, "node-1")
        XCTAssertNoThrow(try configuration.validate())
    }

    func testValidationRefusesPlainWebSocketUnlessAllowedAndBadActions() throws {
        var configuration = AgentConfiguration()
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertEqual($0 as? AgentConfigurationError, .noGateway) }
        configuration.gateways = ["ws://127.0.0.1:8282/"]
        XCTAssertThrowsError(try configuration.validate()) {
            XCTAssertEqual($0 as? AgentConfigurationError, .plainWebSocketNotAllowed("ws://127.0.0.1:8282/"))
        }
        configuration.allowPlainWebSocket = true
        XCTAssertNoThrow(try configuration.validate())
        configuration.actions = [
            AllowedAction(spec: ActionSpec(name: "a", params: [ActionParameter(name: "m", type: .enum)]), program: "/bin/true")
        ]
        XCTAssertThrowsError(try configuration.validate())
        configuration.gateways = ["http://x/"]
        XCTAssertThrowsError(try configuration.validate())
    }

    func testTokenFileMustBeOwnerOnly() throws {
        let path = directory + "/token"
        try "  s3cret-token\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        XCTAssertThrowsError(try SecretTokenFile.read(path)) { error in
            XCTAssertEqual(error as? SecretTokenFile.Refusal, .tooOpen(path: path, mode: "644"))
            XCTAssertFalse("\(error)".contains("s3cret"), "the token never appears in an error")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        XCTAssertEqual(try SecretTokenFile.read(path), "s3cret-token")
        XCTAssertThrowsError(try SecretTokenFile.read(directory + "/missing"))
    }

    func testASecondLockOnTheSameStateDirectoryIsRefused() throws {
        let first = try InstanceLock(directory: directory + "/state")
        XCTAssertThrowsError(try InstanceLock(directory: directory + "/state")) { error in
            XCTAssertTrue("\(error)".contains("pid \(ProcessInfo.processInfo.processIdentifier)"), "\(error)")
        }
        withExtendedLifetime(first) {}
    }
}
