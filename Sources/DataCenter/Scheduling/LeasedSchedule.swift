import Foundation
import Registry

/// A task of the central side that runs once per period across every worker, not once per worker.
///
/// Every worker checks several times per period; the first to `add` the period's lease key in
/// memcached runs the task, and `add` fails for everyone else until the next period. Periods are
/// counted from the Unix epoch, so every machine (with synchronised clocks) agrees on them.
struct LeasedSchedule: Sendable {
    /// The task's name, part of the lease key.
    let name: String
    let period: Duration

    /// How often a worker tries to take the lease: several times per period, so a period is not
    /// missed when one worker's timer drifts past its boundary.
    var checkInterval: Duration { period / 4 }

    /// The number of the period `date` falls in.
    func periodNumber(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / period.seconds).rounded(.down))
    }

    /// Takes the lease of the current period for `holder`.
    /// - Returns: the period's number when this caller took it (and must run the task), nil when
    ///   another worker already did.
    func claim(for holder: String, in data: GlobalData, now: Date = Date()) async throws -> Int64? {
        let number = periodNumber(at: now)
        // The key outlives its period a little, so a late check in the same period still finds it.
        let expiry = max(2, Int(period.seconds.rounded(.up)) * 2 + 1)
        let taken = try await data.add("dc.lease:\(name):\(number)", Array(holder.utf8), expiration: expiry)
        return taken ? number : nil
    }
}
