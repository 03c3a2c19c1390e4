import Foundation
import Logging

/// Writes one line per log record to standard error, each naming the process role and pid:
/// `2026-11-22T01:02:03.456Z gateway[4242] notice: worker linked worker=echo:4300#1`.
struct ProcessLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    private let prefix: String

    init(role: String, level: Logger.Level) {
        self.prefix = "\(role)[\(ProcessInfo.processInfo.processIdentifier)]"
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = "\(Self.timestamp()) \(prefix) \(event.level): \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() {
            line += " \(key)=\(merged[key]!)"
        }
        line += "\n"
        // write(2), not FileHandle: a log reader that went away (the supervisor killed with -9) must
        // not crash the process, whose SIGTERM from the kernel then stops it gracefully.
        var bytes = Array(line.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
    }
}
