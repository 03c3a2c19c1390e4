import DataCenterProtocol
import Foundation

/// Job output and results waiting for the central side's acknowledgement, one file each under
/// `<state>/spool/`, in the order they were produced. They survive a disconnect and an agent
/// restart, and are sent again until acknowledged; the central side drops duplicates by (job, seq).
public actor OutboundSpool {
    /// One waiting message.
    public enum Message: Codable, Sendable, Equatable {
        case output(OutputChunk)
        case finished(JobFinished)

        /// The request that carries it.
        public var operation: OperationName {
            switch self {
            case .output: return .jobOutput
            case .finished: return .jobFinished
            }
        }
    }

    /// A message and its place in the spool.
    public struct Entry: Sendable, Equatable {
        public let sequence: UInt64
        public let message: Message
    }

    private let directory: String
    private let maximumBytes: Int
    private var sizes: [UInt64: Int] = [:]
    private var order: [UInt64] = []
    private var totalBytes = 0
    private var nextSequence: UInt64 = 1
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0

    /// Opens the spool in `stateDirectory`, with what an earlier run left unacknowledged.
    /// - Parameter maximumBytes: output beyond this is refused; results are always kept.
    public init(stateDirectory: String, maximumBytes: Int) throws {
        directory = stateDirectory + "/spool"
        self.maximumBytes = maximumBytes
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            guard name.hasSuffix(".json"), let sequence = UInt64(name.dropLast(5)) else { continue }
            let size = (try? FileManager.default.attributesOfItem(atPath: "\(directory)/\(name)")[.size] as? Int) ?? 0
            sizes[sequence] = size
            totalBytes += size
        }
        order = sizes.keys.sorted()
        nextSequence = (order.last ?? 0) + 1
    }

    /// Keeps `message` until it is acknowledged. Output is refused (false) when the spool is full;
    /// a result is always kept, so every job's end reaches the central side.
    @discardableResult
    public func append(_ message: Message) throws -> Bool {
        let data = try JSONEncoder().encode(message)
        if case .output = message, totalBytes + data.count > maximumBytes { return false }
        let sequence = nextSequence
        nextSequence += 1
        try data.write(to: URL(fileURLWithPath: path(sequence)), options: .atomic)
        sizes[sequence] = data.count
        order.append(sequence)
        totalBytes += data.count
        let woken = waiters.values
        waiters = [:]
        for waiter in woken { waiter.resume() }
        return true
    }

    /// Up to `limit` entries after `sequence` (0 for the oldest), oldest first.
    public func entries(after sequence: UInt64, limit: Int) -> [Entry] {
        let start = order.firstIndex { $0 > sequence } ?? order.endIndex
        return order[start...].prefix(limit).compactMap { sequence in
            guard let data = FileManager.default.contents(atPath: path(sequence)),
                let message = try? JSONDecoder().decode(Message.self, from: data)
            else { return nil }
            return Entry(sequence: sequence, message: message)
        }
    }

    /// Waits until an entry after `sequence` exists, or the task is cancelled.
    public func waitForEntries(after sequence: UInt64) async {
        if let last = order.last, last > sequence { return }
        let key = nextWaiter
        nextWaiter += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume()
                } else {
                    waiters[key] = continuation
                }
            }
        } onCancel: {
            Task { await self.stopWaiting(key) }
        }
    }

    private func stopWaiting(_ key: Int) {
        waiters.removeValue(forKey: key)?.resume()
    }

    /// Forgets an acknowledged entry.
    public func remove(_ sequence: UInt64) {
        guard let size = sizes.removeValue(forKey: sequence) else { return }
        totalBytes -= size
        order.removeAll { $0 == sequence }
        try? FileManager.default.removeItem(atPath: path(sequence))
    }

    /// Entries waiting for acknowledgement, and their bytes on disk.
    public var backlog: (count: Int, bytes: Int) { (order.count, totalBytes) }

    private func path(_ sequence: UInt64) -> String {
        "\(directory)/\(String(format: "%020llu", sequence)).json"
    }
}
