import DataCenterProtocol
import Foundation
import Registry

/// The workers running the central handler, each refreshing its entry on a timer; for `cluster.stats`.
struct WorkerRoster: Sendable {
    let data: GlobalData

    private static let key = "dc.workers"

    /// Records that `worker` is alive now and forgets entries older than `staleAfter`.
    func refresh(_ worker: String, staleAfter: Duration, now: Date = Date()) async throws {
        let cutoff = now.addingTimeInterval(-staleAfter.seconds)
        _ = try await data.update(Self.key, as: [String: Timestamp].self) { roster in
            var roster = (roster ?? [:]).filter { $0.value.date >= cutoff }
            roster[worker] = Timestamp(now)
            return roster
        }
    }

    /// The workers seen within `window`.
    func liveWorkers(within window: Duration, now: Date = Date()) async throws -> [String] {
        let cutoff = now.addingTimeInterval(-window.seconds)
        return (try await data.get(Self.key, as: [String: Timestamp].self) ?? [:]).filter { $0.value.date >= cutoff }.keys.sorted()
    }
}

extension Duration {
    /// This duration in seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
