import Foundation
import Logging

/// A log handler that keeps every message, for tests that check what was logged.
struct RecordingLogHandler: LogHandler {
    final class Store: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [(Logger.Level, String)] = []

        func append(_ level: Logger.Level, _ message: String) {
            lock.lock()
            entries.append((level, message))
            lock.unlock()
        }

        func messages(at level: Logger.Level) -> [String] {
            lock.lock()
            defer { lock.unlock() }
            return entries.filter { $0.0 == level }.map(\.1)
        }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.append(event.level, "\(event.message) \(event.metadata ?? [:])")
    }

    static func logger() -> (Logger, Store) {
        let store = Store()
        return (Logger(label: "test") { _ in RecordingLogHandler(store: store) }, store)
    }
}
