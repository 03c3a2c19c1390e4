import ClusterTesting
import Foundation
import Supervisor
import XCTest

/// A `datacentered start` for one test: its own directory (config, run and log directories), free
/// ports, its own secret key. ``tearDown()`` stops it and kills anything it left.
final class SupervisedCluster: @unchecked Sendable {
    let directory: URL
    let configPath: String
    let publicPort = freeTCPPort()
    let lanStartPort: Int
    let memcachedPort = freeTCPPort()
    let metricsPort = freeTCPPort()
    let secretKey = "supervisor-test-\(UUID().uuidString.prefix(8))"
    private(set) var master: ManagedProcess?
    private var seenPIDs: Set<Int32> = []

    var runDirectory: RunDirectory { RunDirectory(path: directory.appendingPathComponent("run").path) }
    var logFile: String { directory.appendingPathComponent("log/datacentered.log").path }
    /// More variables for every `datacentered` this cluster runs.
    var extraEnvironment: [String: String] = [:]
    var environment: [String: String] { extraEnvironment.merging(["DATACENTERED_SECRET_KEY": secretKey]) { $1 } }

    /// - Parameter configuration: keys merged over the test defaults (one gateway, two echo workers, local memcached).
    init(gateways: Int = 1, configuration: [String: Any] = [:]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("supervisor-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        configPath = directory.appendingPathComponent("datacentered.json").path
        lanStartPort = Self.freePortRange(count: gateways)
        var document: [String: Any] = [
            "gateway": ["count": gateways, "listen": "127.0.0.1:\(publicPort)", "lanStartPort": lanStartPort],
            "worker": ["count": 2, "handler": "echo"],
            "memcached": ["servers": ["local"], "localPort": memcachedPort, "keyPrefix": "t\(UUID().uuidString.prefix(6))"],
            "supervisor": [
                "runDirectory": directory.appendingPathComponent("run").path,
                "logDirectory": directory.appendingPathComponent("log").path,
                "stopGraceSeconds": 5, "restartDelayMaxSeconds": 4, "restartResetSeconds": 3,
                "metricsListen": "127.0.0.1:\(metricsPort)",
            ],
        ]
        for (key, value) in configuration {
            if let nested = value as? [String: Any], var existing = document[key] as? [String: Any] {
                existing.merge(nested) { $1 }
                document[key] = existing
            } else {
                document[key] = value
            }
        }
        try writeConfiguration(document)
    }

    func writeConfiguration(_ document: [String: Any]) throws {
        try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: configPath))
    }

    /// Starts `datacentered start` in the foreground and waits until every child started.
    @discardableResult
    func start(extraArguments: [String] = [], timeout: Duration = .seconds(60)) throws -> ManagedProcess {
        let master = try ManagedProcess(
            executable: TestCluster.binaryPath, arguments: ["start", "--config", configPath] + extraArguments,
            environment: environment, logPath: directory.appendingPathComponent("foreground.log").path
        )
        self.master = master
        try master.waitForOutput(containing: "cluster started", timeout: timeout)
        return master
    }

    /// Runs `datacentered <arguments> --config <file>` to completion.
    func command(_ arguments: [String], timeout: Duration = .seconds(60)) throws -> CommandRunner.Outcome {
        try CommandRunner.run(TestCluster.binaryPath, arguments + ["--config", configPath], environment: environment, timeout: timeout)
    }

    /// ``command(_:timeout:)`` on a thread of its own, so that waiting for it blocks no task of the test.
    func commandInBackground(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> CommandRunner.Outcome {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try self.command(arguments, timeout: timeout) }) }.start()
        }
    }

    /// `datacentered status --json`, decoded.
    func status() throws -> StatusReport {
        let outcome = try command(["status", "--json"])
        guard outcome.status == 0 else { throw Failure("status failed: \(outcome.output)") }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let report = try decoder.decode(StatusReport.self, from: Data(outcome.standardOutput.utf8))
        seenPIDs.formUnion(report.processes.compactMap(\.pid))
        return report
    }

    /// Polls status until `condition` holds.
    @discardableResult
    func waitForStatus(_ what: String, timeout: Duration = .seconds(30), _ condition: (StatusReport) -> Bool) throws -> StatusReport {
        let deadline = ContinuousClock.now + timeout
        var last: StatusReport?
        while ContinuousClock.now < deadline {
            if let report = try? status() {
                last = report
                if condition(report) { return report }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw Failure("timed out waiting for \(what); last status: \(String(describing: last?.processes.map { "\($0.name) \($0.pid ?? 0) \($0.state)" }))")
    }

    func pids(of role: String, in report: StatusReport) -> [Int32] {
        report.processes.filter { $0.role == role }.compactMap(\.pid)
    }

    /// Stops the cluster if it still runs, kills whatever it left (the test then fails on its own
    /// checks) and removes its directory.
    func tearDown() {
        if let pid = runDirectory.recordedPID(), kill(pid, 0) == 0 {
            _ = try? command(["stop"], timeout: .seconds(30))
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
        master?.kill()
        for pid in seenPIDs where Self.isAlive(pid) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// True while `pid` exists and is not a zombie.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return false
        }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    /// Waits until none of `pids` is alive.
    static func waitUntilGone(_ pids: [Int32], timeout: Duration = .seconds(20)) -> [Int32] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !pids.contains(where: isAlive) { return [] }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return pids.filter(isAlive)
    }

    /// A first port with `count` consecutive free ports (the gateways' internal ports).
    private static func freePortRange(count: Int) -> Int {
        while true {
            let first = freeTCPPort()
            guard first + count < 65535 else { continue }
            if count == 1 || (1..<count).allSatisfy({ portIsFree(first + $0) }) { return first }
        }
    }

    private static func portIsFree(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
