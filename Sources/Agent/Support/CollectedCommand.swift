import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs a short command (an inventory listing) and collects its standard output, bounded in size
/// and time: a hung tool must not stall the reports.
enum CollectedCommand {
    struct Failed: Error, CustomStringConvertible {
        var command: String
        var reason: String
        var description: String { "\(command): \(reason)" }
    }

    static func run(_ path: String, _ arguments: [String], timeout: Duration = .seconds(20), limit: Int = 4 << 20) async throws -> String {
        let command = ([path] + arguments).joined(separator: " ")
        return try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                var options = PlatformOptions()
                options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(1))]
                let result = try await Subprocess.run(
                    .path(FilePath(path)), arguments: Arguments(arguments), platformOptions: options,
                    output: .string(limit: limit), error: .discarded
                )
                guard case .exited(0) = result.terminationStatus else {
                    throw Failed(command: command, reason: "ended with \(result.terminationStatus)")
                }
                return result.standardOutput
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let output = try await group.next()! else {
                throw Failed(command: command, reason: "no answer within \(timeout)")
            }
            return output
        }
    }
}
