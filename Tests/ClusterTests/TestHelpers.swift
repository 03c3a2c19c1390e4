import ClusterTesting
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

/// Runs a Python 3 script with a bounded time.
enum PythonScript {
    static func run(_ source: String, arguments: [String], timeout: Duration) throws -> (status: Int32, output: String) {
        let outcome = try CommandRunner.run("/usr/bin/env", ["python3", "-c", source] + arguments, timeout: timeout)
        return (outcome.status, outcome.output)
    }
}
