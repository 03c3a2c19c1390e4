import DataCenterProtocol
import Histogram
import Synchronization

/// What the measuring operator connection has seen: report→operator latencies of `host.changed`
/// (and the part of them until the central side handled the report, from the `lastReportAt` it
/// stamps), and when each job's first output chunk and final state arrived.
final class OperatorObservations: Sendable {
    struct JobSighting: Sendable {
        var firstChunk: ContinuousClock.Instant?
        var ended: ContinuousClock.Instant?
        var state: JobState?
        var exitCode: Int?
    }

    private struct State {
        var latency = OperatorObservations.histogram()
        var toCentral = OperatorObservations.histogram()
        var hostChanges = 0
        var jobs: [String: JobSighting] = [:]
    }

    private let state = Mutex(State())

    static func histogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    /// A `host.changed`; `sentAt` is the stamp of a bandwidth report it carries and `handledAt` the
    /// central side's `lastReportAt` (µs since the epoch).
    func hostChanged(sentAt: Int64?, handledAt: Int64?, now: Int64) {
        state.withLock { state in
            state.hostChanges += 1
            guard let sentAt else { return }
            state.latency.record(UInt64(max(1, now - sentAt)))
            if let handledAt { state.toCentral.record(UInt64(max(1, handledAt - sentAt))) }
        }
    }

    func jobOutput(_ job: String, at now: ContinuousClock.Instant) {
        state.withLock { state in
            if state.jobs[job, default: JobSighting()].firstChunk == nil { state.jobs[job, default: JobSighting()].firstChunk = now }
        }
    }

    func jobState(_ record: JobRecord, at now: ContinuousClock.Instant) {
        guard record.state.isFinal else { return }
        state.withLock { state in
            var sighting = state.jobs[record.id, default: JobSighting()]
            guard sighting.ended == nil else { return }
            sighting.ended = now
            sighting.state = record.state
            sighting.exitCode = record.exitCode
            state.jobs[record.id] = sighting
        }
    }

    /// The latencies (to the operator, and to the central side's handling) and the number of
    /// `host.changed` since the last call, and starts counting afresh.
    func takeHostChanges() -> (latency: Histogram<UInt64>, toCentral: Histogram<UInt64>, count: Int) {
        state.withLock { state in
            defer {
                state.latency = Self.histogram()
                state.toCentral = Self.histogram()
                state.hostChanges = 0
            }
            return (state.latency, state.toCentral, state.hostChanges)
        }
    }

    func sightings(of jobs: [String]) -> [JobSighting] {
        state.withLock { state in jobs.map { state.jobs[$0] ?? JobSighting() } }
    }
}
