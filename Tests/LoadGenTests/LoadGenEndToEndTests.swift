import Foundation
import XCTest

/// Runs the built `echo-ceiling` and `loadgen` executables against each other on loopback: every
/// mode must finish by itself with a JSON summary as its last line and nothing lost.
final class LoadGenEndToEndTests: XCTestCase {
    private var server: Process?
    private var port = 0

    override func setUpWithError() throws {
        let binary = Self.executable("echo-ceiling")
        guard FileManager.default.isExecutableFile(atPath: binary.path),
              FileManager.default.isExecutableFile(atPath: Self.executable("loadgen").path) else {
            throw XCTSkip("echo-ceiling / loadgen not built next to the tests")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--listen", "127.0.0.1:0", "--event-loops", "2"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        server = process
        port = try Self.waitForPort(output.fileHandleForReading, timeout: 15)
    }

    override func tearDown() {
        server?.terminate()
        server?.waitUntilExit()
        server = nil
    }

    func testRTT() throws {
        let summary = try run(["rtt", "--connections", "8", "--duration", "1", "--warmup", "0.2"])
        XCTAssertEqual(summary["mode"] as? String, "rtt")
        XCTAssertEqual(summary["connected"] as? Int, 8)
        XCTAssertGreaterThan(summary["ops"] as? Int ?? 0, 100)
        XCTAssertGreaterThan(summary["p50_us"] as? Int ?? 0, 0)
        XCTAssertEqual(summary["lost"] as? Int, 0)
        XCTAssertEqual(summary["failed"] as? Int, 0)
    }

    func testRTTReadsTheServersCountersAtItsWindowEdges() throws {
        let pid = try XCTUnwrap(server?.processIdentifier)
        let summary = try run(["rtt", "--connections", "4", "--duration", "1", "--warmup", "0.2", "--server-pids", "\(pid)"])
        XCTAssertGreaterThan(summary["ops"] as? Int ?? 0, 100)
        // Every round trip wakes the server: thousands of them cost CPU and context switches.
        XCTAssertGreaterThan(summary["server_cpu_s"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(summary["server_context_switches"] as? Int ?? 0, 0)
        XCTAssertNil(summary["server_allocations"], "no allocation counter runs in the server")
    }

    func testFanout() throws {
        let summary = try run(["fanout", "--connections", "20", "--duration", "1", "--warmup", "0.2"])
        XCTAssertEqual(summary["subscribers"] as? Int, 20)
        XCTAssertGreaterThan(summary["broadcasts"] as? Int ?? 0, 10)
        XCTAssertEqual(summary["ops"] as? Int, (summary["broadcasts"] as? Int ?? -1) * 20)
        XCTAssertEqual(summary["lost"] as? Int, 0)
        XCTAssertEqual(summary["broadcasts_timed_out"] as? Int, 0)
    }

    func testIdleWithSourceAddresses() throws {
        let summary = try run([
            "idle", "--connections", "60", "--duration", "0.5", "--source-ips", "127.0.0.2,127.0.0.3", "--connect-rate", "10",
        ])
        XCTAssertEqual(summary["connected"] as? Int, 60)
        XCTAssertEqual(summary["ok"] as? Int, 60)
        XCTAssertEqual(summary["failed"] as? Int, 0)
    }

    func testConnectionFailuresAreCountedNotFatal() throws {
        // Nothing listens on port 1 of 127.0.0.1.
        let summary = try run(["rtt", "--url", "ws://127.0.0.1:1/", "--connections", "3", "--duration", "0.2"], expectSuccess: false)
        XCTAssertEqual(summary["connected"] as? Int, 0)
        XCTAssertEqual(summary["connect_failed"] as? Int, 3)
    }

    // MARK: helpers

    private func run(_ arguments: [String], expectSuccess: Bool = true) throws -> [String: Any] {
        let process = Process()
        process.executableURL = Self.executable("loadgen")
        var arguments = arguments
        if !arguments.contains("--url") { arguments += ["--url", "ws://127.0.0.1:\(port)/"] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if expectSuccess { XCTAssertEqual(process.terminationStatus, 0) }
        let text = String(decoding: data, as: UTF8.self)
        let last = try XCTUnwrap(text.split(separator: "\n").last, "no output")
        let object = try JSONSerialization.jsonObject(with: Data(last.utf8))
        return try XCTUnwrap(object as? [String: Any], "last line is not a JSON object: \(last)")
    }

    private static func executable(_ name: String) -> URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Reads the server's output until its `listening on HOST:PORT` line.
    private static func waitForPort(_ handle: FileHandle, timeout: TimeInterval) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        var seen = ""
        while Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if let range = seen.range(of: "listening on 127.0.0.1:") {
                let digits = seen[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), seen[range.upperBound...].count > digits.count { return port }
            }
        }
        throw XCTSkip("echo-ceiling did not report its port: \(seen)")
    }
}
