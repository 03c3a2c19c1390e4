import ClusterTesting
import Foundation
import XCTest

/// The fleet benchmark's two halves against a real cluster (memcached, a gateway, a datacenter worker):
/// a few simulated agents authenticate with bulk-issued host tokens and report, and the operator sees
/// their reports; two service connections fan a job out to them and cancel another. Counts only;
/// nothing is timed.
final class FleetEndToEndTests: XCTestCase {
    private static let agents = 3
    private var cluster: TestCluster?
    private var directory: URL!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable("loadgen")) else {
            throw XCTSkip("loadgen not built next to the tests")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        cluster?.stopAll()
        try? FileManager.default.removeItem(at: directory)
    }

    func testAgentsReportAndTheOperatorSeesReportsJobsAndCancels() throws {
        let names = path("names.txt")
        try (1...Self.agents).map { "fleet-test-\($0)" }.joined(separator: "\n").write(toFile: names, atomically: true, encoding: .utf8)
        let tokens = path("tokens.json")
        let issued = try CommandRunner.run(TestCluster.binaryPath, ["token", "issue", "--role", "agent", "--names-from", names, "--file", tokens])
        XCTAssertEqual(issued.status, 0, issued.output)
        let lines = issued.standardOutput.split(separator: "\n")
        XCTAssertEqual(lines.count, Self.agents)
        XCTAssertEqual(lines.first?.split(separator: "\t").first, "fleet-test-1")
        try issued.standardOutput.write(toFile: path("agents.tsv"), atomically: true, encoding: .utf8)
        let operatorToken = try CommandRunner.run(
            TestCluster.binaryPath, ["token", "issue", "--role", "operator", "--name", "fleet-operator", "--file", tokens])
        XCTAssertEqual(operatorToken.status, 0, operatorToken.output)
        try operatorToken.standardOutput.write(toFile: path("operator.token"), atomically: true, encoding: .utf8)
        let serviceToken = try CommandRunner.run(
            TestCluster.binaryPath, ["token", "issue", "--role", "service", "--name", "fleet-fanout", "--file", tokens])
        XCTAssertEqual(serviceToken.status, 0, serviceToken.output)
        try serviceToken.standardOutput.write(toFile: path("service.token"), atomically: true, encoding: .utf8)

        let cluster = try TestCluster()
        self.cluster = cluster
        let gateway = try cluster.startGateway()
        let worker = try cluster.startWorker(
            name: "dc", handler: "datacenter", extraArguments: ["--tokens", tokens, "--report-periods", "60,0.5,0.5,60"])
        try cluster.waitUntilLinked(worker, to: gateway)
        let url = "ws://127.0.0.1:\(gateway.publicPort)/"

        let stop = path("stop")
        let agents = try ManagedProcess(
            executable: Self.executable("loadgen"),
            arguments: ["fleet-agents", "--url", url, "--tokens", path("agents.tsv"), "--agents", "\(Self.agents)", "--stop-file", stop, "--max-hold", "120"])
        defer { agents.kill() }
        try agents.waitForOutput(containing: "\"online\":\(Self.agents),", timeout: .seconds(30))

        let measured = try CommandRunner.run(
            Self.executable("loadgen"),
            ["fleet-operator", "--url", url, "--token-file", path("operator.token"), "--hosts-file", names, "--expect-online", "\(Self.agents)",
             "--latency-duration", "2", "--jobs", "\(Self.agents)", "--job-wait", "30",
             "--fanout-connections", "2", "--service-token-file", path("service.token")],
            timeout: .seconds(90))
        XCTAssertEqual(measured.status, 0, measured.output)
        let summary = try lastJSON(measured.standardOutput)
        XCTAssertEqual(summary["agents_online"] as? Int, Self.agents)
        XCTAssertGreaterThan(summary["operator_updates"] as? Int ?? 0, 0, measured.output)
        XCTAssertGreaterThan(summary["latency_samples"] as? Int ?? 0, 0, measured.output)
        XCTAssertEqual(summary["job_refused"] as? Int, 0)
        XCTAssertEqual(summary["job_results"] as? Int, Self.agents)
        XCTAssertEqual(summary["job_exit_0"] as? Int, Self.agents)
        XCTAssertEqual(summary["cancelled"] as? Int, Self.agents)

        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        XCTAssertEqual(try agents.waitForExit(timeout: .seconds(20)), 0)
        let generator = try lastJSON(agents.output)
        XCTAssertEqual(generator["authentications"] as? Int, Self.agents)
        XCTAssertGreaterThan(generator["reports"] as? Int ?? 0, 2 * Self.agents)
        XCTAssertEqual(generator["jobs_finished"] as? Int, Self.agents)
        XCTAssertEqual(generator["jobs_cancelled"] as? Int, Self.agents)
        XCTAssertEqual(generator["chunks"] as? Int, Self.agents * 4)
        XCTAssertEqual(generator["undelivered"] as? Int, 0)
        XCTAssertFalse(agents.output.contains("dct_"), "a token reached the generator's output")
        XCTAssertFalse(worker.output.contains("dct_"), "a token reached the worker's log")
    }

    // MARK: helpers

    private func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    private func lastJSON(_ output: String) throws -> [String: Any] {
        let last = try XCTUnwrap(output.split(separator: "\n").last { $0.hasPrefix("{") }, "no JSON line in: \(output)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
    }

    private static func executable(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }
}
