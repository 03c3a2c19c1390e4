import Logging
import NIOConcurrencyHelpers

/// A swift-log handler that keeps every message with its level, for tests that check what was logged.
public struct RecordingLogHandler: LogHandler {
    /// What was logged, readable from any thread.
    public final class Store: Sendable {
        private let entries = NIOLockedValueBox<[(level: Logger.Level, message: String, withMetadata: String)]>([])

        public init() {}

        func append(_ level: Logger.Level, message: String, metadata: Logger.Metadata) {
            entries.withLockedValue { $0.append((level, message, "\(message) \(metadata)")) }
        }

        /// Every message in order, without metadata.
        public var messages: [String] { entries.withLockedValue { $0.map(\.message) } }

        /// The messages at `level`, each followed by its metadata.
        public func messages(at level: Logger.Level) -> [String] {
            entries.withLockedValue { $0.filter { $0.level == level }.map(\.withMetadata) }
        }
    }

    public let store: Store
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(store: Store) {
        self.store = store
    }

    /// A logger that records into a fresh store.
    public static func logger(label: String = "test") -> (Logger, Store) {
        let store = Store()
        return (Logger(label: label) { _ in RecordingLogHandler(store: store) }, store)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        store.append(event.level, message: "\(event.message)", metadata: event.metadata ?? [:])
    }
}
