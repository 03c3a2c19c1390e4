import DataCenterClient
import DataCenterProtocol
import Foundation

/// Writes a job's output to this process's standard output and error as it comes, and returns the
/// exit status that the command then exits with: the job's, 128 + its signal, or 1.
enum JobOutputPrinter {
    static func print(_ run: JobRun) async throws -> Int32 {
        for try await event in run {
            switch event {
            case .output(let chunk):
                let handle = chunk.stream == .stderr ? FileHandle.standardError : FileHandle.standardOutput
                handle.write(Data(chunk.data.utf8))
            case .finished(let record):
                return status(of: record)
            }
        }
        throw OperatorClient.ConnectionEnded()
    }

    private static func status(of record: JobRecord) -> Int32 {
        if let exitCode = record.exitCode { return Int32(truncatingIfNeeded: exitCode) }
        if let signal = record.signal { return 128 + Int32(truncatingIfNeeded: signal) }
        FileHandle.standardError.write(Data("job \(record.id) \(record.state.rawValue)\(record.error.map { ": \($0)" } ?? "")\n".utf8))
        return record.state == .done ? 0 : 1
    }
}
