import ClusterTesting
import Foundation
import XCTest

/// `Deploy/systemd/datacentered-agent.service`: a unit systemd accepts, running the agent with the
/// config and state directory that `Config/agent.example.json` describes.
final class AgentSystemdUnitTests: XCTestCase {
    private static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testTheAgentUnitIsValidAndMatchesTheExampleConfig() throws {
        let unit = try String(contentsOf: Self.repository.appendingPathComponent("Deploy/systemd/datacentered-agent.service"), encoding: .utf8)
        func value(_ key: String) throws -> String {
            let line = try XCTUnwrap(unit.split(separator: "\n").first { $0.hasPrefix("\(key)=") }, "no \(key)= in the unit")
            return String(line.dropFirst(key.count + 1))
        }
        let command = try value("ExecStart").split(separator: " ").map(String.init)
        XCTAssertEqual(Array(command.dropFirst()), ["agent", "--config", "/etc/datacentered/agent.json"])
        let example = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.repository.appendingPathComponent("Config/agent.example.json")))
        let stateDirectory = try XCTUnwrap((example as? [String: Any])?["stateDirectory"] as? String)
        XCTAssertEqual("/var/lib/" + (try value("StateDirectory")), stateDirectory, "systemd makes the state directory the config names")

        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { throw XCTSkip("no systemd-analyze on this machine") }
        // systemd checks that ExecStart's program exists: the built one stands in for the installed one.
        let binary = URL(fileURLWithPath: TestCluster.binaryPath).standardizedFileURL.path
        let directory = NSTemporaryDirectory() + "agent-unit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let copy = directory + "/datacentered-agent.service"
        try unit.replacingOccurrences(of: command[0], with: binary).write(toFile: copy, atomically: true, encoding: .utf8)
        let outcome = try CommandRunner.run(analyze, ["verify", copy], timeout: .seconds(30))
        XCTAssertEqual(outcome.status, 0, outcome.output)
        XCTAssertEqual(outcome.output, "", "systemd-analyze verify found fault with the unit")
    }
}
