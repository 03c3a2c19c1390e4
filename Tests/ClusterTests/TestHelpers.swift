import Foundation
import XCTest

/// Fails unless `expression` throws.
func XCTAssertThrowsErrorAsync<T>(
    _ expression: @autoclosure () async throws -> T,
    _ message: String = "expected an error",
    file: StaticString = #filePath,
    line: UInt = #line
) async {
    do {
        _ = try await expression()
        XCTFail(message, file: file, line: line)
    } catch {}
}

/// Runs a command to completion with a bounded time; returns its exit status and its output.
enum Command {
    struct Outcome {
        var status: Int32
        var standardOutput: String
        var standardError: String
        /// Both outputs, for failure messages.
        var output: String { standardOutput + standardError }
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(30)) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("command-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let outPath = directory.appendingPathComponent("out").path
        let errPath = directory.appendingPathComponent("err").path
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        if process.isRunning {
            process.terminate()
        }
        process.waitUntilExit()
        let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        defer { try? FileManager.default.removeItem(at: directory) }
        return Outcome(status: process.terminationStatus, standardOutput: read(outPath), standardError: read(errPath))
    }
}

/// Runs a Python 3 script with a bounded time.
enum PythonScript {
    static func run(_ source: String, arguments: [String], timeout: Duration) throws -> (status: Int32, output: String) {
        let outcome = try Command.run("/usr/bin/env", ["python3", "-c", source] + arguments, timeout: timeout)
        return (outcome.status, outcome.output)
    }
}
