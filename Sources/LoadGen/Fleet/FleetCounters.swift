import Synchronization

/// What the simulated agents of one generator process have done, read by its status lines and summary.
final class FleetCounters: Sendable {
    struct Values: Sendable {
        /// Agents with an authenticated session now.
        var online = 0
        /// Authentications in total: first connections and reconnections.
        var authentications = 0
        /// `report.*` events sent.
        var reports = 0
        var jobsStarted = 0
        var jobsFinished = 0
        var jobsCancelled = 0
        /// `job.output` chunks acknowledged by the central side.
        var chunks = 0
        /// Job messages that could not be delivered (the connection closed under them).
        var undelivered = 0
    }

    private let values = Mutex(Values())

    func increment(_ counter: WritableKeyPath<Values, Int>, by amount: Int = 1) {
        values.withLock { $0[keyPath: counter] += amount }
    }

    var snapshot: Values {
        values.withLock { $0 }
    }
}
