import Histogram
import NIOCore
import NIOWebSocket

/// Counters of one event loop; summed over loops for the report.
struct Counters: Sendable {
    /// Completed operations inside the measured window (round trips, deliveries, echo checks).
    var ops: UInt64 = 0
    /// Operations that completed outside the window (not counted, not timed).
    var outsideWindow: UInt64 = 0
    /// Messages that did not match what the session waited for.
    var unexpected: UInt64 = 0
    /// Connections that closed after they were open, before the run ended.
    var closedEarly: UInt64 = 0
    /// Close frames received from the server.
    var serverCloses: UInt64 = 0
    /// Connection errors seen after the upgrade.
    var errors: UInt64 = 0
    /// idle: connections that echoed the check message / did not.
    var ok: UInt64 = 0
    var failed: UInt64 = 0
    /// fanout: measured broadcasts sent, completed and timed out (publisher loop only).
    var broadcastsSent: UInt64 = 0
    var broadcastsMeasured: UInt64 = 0
    var broadcastsCompleted: UInt64 = 0
    var broadcastsTimedOut: UInt64 = 0
    /// fanout: duplicate or out-of-order deliveries.
    var duplicates: UInt64 = 0

    static func + (lhs: Counters, rhs: Counters) -> Counters {
        var sum = lhs
        sum.ops += rhs.ops
        sum.outsideWindow += rhs.outsideWindow
        sum.unexpected += rhs.unexpected
        sum.closedEarly += rhs.closedEarly
        sum.serverCloses += rhs.serverCloses
        sum.errors += rhs.errors
        sum.ok += rhs.ok
        sum.failed += rhs.failed
        sum.broadcastsSent += rhs.broadcastsSent
        sum.broadcastsMeasured += rhs.broadcastsMeasured
        sum.broadcastsCompleted += rhs.broadcastsCompleted
        sum.broadcastsTimedOut += rhs.broadcastsTimedOut
        sum.duplicates += rhs.duplicates
        return sum
    }
}

/// The measured window, fixed when every connection is open.
struct MeasurePlan: Sendable {
    var measureStart: UInt64
    var measureEnd: UInt64

    func contains(_ nanos: UInt64) -> Bool { nanos >= measureStart && nanos < measureEnd }
}

/// What a run measured of itself and of the servers over its window.
struct WindowFigures {
    /// The generator's own CPU seconds (user + system) spent inside the window.
    var clientCPU: Double
    /// The servers' `server_*` figures (ServerCounters.windowFields); empty without --server-pids.
    var serverFields: [(String, JSONValue)]
}

/// Sleeps through warm-up and the measured window, reading the servers' counters at its exact
/// edges and announcing both ends on stdout (scripts read these lines to time other tools).
enum Window {
    static func wait(_ plan: MeasurePlan, servers: ServerCounterOptions) async throws -> WindowFigures {
        let now = Clock.nanos()
        if plan.measureStart > now { try await Task.sleep(nanoseconds: plan.measureStart - now) }
        let serversAtStart = servers.read()
        let cpuStart = RunReport.cpuSeconds()
        Output.line("measure start")
        let later = Clock.nanos()
        if plan.measureEnd > later { try await Task.sleep(nanoseconds: plan.measureEnd - later) }
        let serversAtEnd = servers.read()
        let cpu = RunReport.cpuSeconds() - cpuStart
        Output.line("measure end")
        var serverFields: [(String, JSONValue)] = []
        if let serversAtStart, let serversAtEnd { serverFields = serversAtEnd.windowFields(since: serversAtStart) }
        return WindowFigures(clientCPU: cpu, serverFields: serverFields)
    }
}

/// Everything one event loop's connections share: the histogram, counters, sessions. Touched only
/// on its own loop (reached from elsewhere through `NIOLoopBound`), so recording needs no locks.
final class LoopState {
    let index: Int
    let eventLoop: EventLoop
    var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three
    )
    var counters = Counters()
    var errorKinds: [String: Int] = [:]
    var plan = MeasurePlan(measureStart: .max, measureEnd: .max)
    /// Open sessions of this loop, for the modes to drive.
    var sessions: [AnyObject] = []
    /// Mode-specific state of this loop (e.g. fanout's per-sequence counts).
    var modeState: AnyObject?
    private var rng: SplitMix64

    init(index: Int, eventLoop: EventLoop) {
        self.index = index
        self.eventLoop = eventLoop
        rng = SplitMix64(seed: UInt64(truncatingIfNeeded: Clock.nanos()) &+ UInt64(index) &* 0x1234_5678_9ABC)
    }

    func nextMaskKey() -> WebSocketMaskingKey {
        WebSocketMaskingKey.random(using: &rng)
    }

    /// Records a latency in microseconds (clamped to the histogram's range).
    @inline(__always)
    func record(latencyNanos: UInt64) {
        let micros = Swift.max(1, Swift.min(latencyNanos / 1000, 120_000_000))
        _ = histogram.record(micros)
    }

    func recordError(_ error: Error) {
        counters.errors += 1
        errorKinds[ErrorKind.describe(error), default: 0] += 1
    }

    func snapshot() -> LoopSnapshot {
        LoopSnapshot(histogram: histogram, counters: counters, errorKinds: errorKinds)
    }
}

@available(*, unavailable)
extension LoopState: Sendable {}

/// A loop's figures, copied off the loop at the end.
struct LoopSnapshot: Sendable {
    var histogram: Histogram<UInt64>
    var counters: Counters
    var errorKinds: [String: Int]
}

enum ErrorKind {
    /// A short, stable name for grouping errors in the report.
    static func describe(_ error: Error) -> String {
        let text = String(describing: error)
        return text.count > 80 ? String(text.prefix(80)) : text
    }
}
