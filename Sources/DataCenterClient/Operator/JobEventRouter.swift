import DataCenterProtocol
import Foundation
import NIOConcurrencyHelpers

/// Hands the `job.output` and `job.state` events of a session's connections to the runs that follow their jobs.
///
/// A job's first events can come before the reply to its `jobs.run` (they may come from another
/// worker), when its id is not known yet: while a `jobs.run` waits for its reply, events of jobs
/// nobody follows are kept (at most ``captureLimit``, the newest) for the run that subscribes next.
final class JobEventRouter: Sendable {
    /// A job's news as the central side sends it.
    enum Update: Sendable {
        case output(OutputChunk)
        case state(JobRecord)
        /// The central side no longer has the job (its record expired or was lost): nothing will come.
        case missing(job: String)

        var job: String {
            switch self {
            case .output(let chunk): return chunk.job
            case .state(let record): return record.id
            case .missing(let job): return job
            }
        }

        /// The job's last news (its final state, or that it is gone): nothing more comes after it.
        var isFinal: Bool {
            switch self {
            case .output: return false
            case .state(let record): return record.state.isFinal
            case .missing: return true
            }
        }
    }

    static let captureLimit = 4096

    private struct State {
        var followers: [String: [UUID: AsyncStream<Update>.Continuation]] = [:]
        /// The chunks handed to each followed job's runs, for where a reconnect resumes.
        var given: [String: JobOutputOrder] = [:]
        /// When each followed job's runs last had news (or began to follow it).
        var lastNews: [String: ContinuousClock.Instant] = [:]
        var capturing = 0
        var captured: [Update] = []
        var ended = false

        mutating func noteGiven(_ update: Update) {
            if case .output(let chunk) = update { _ = given[chunk.job, default: JobOutputOrder()].take(chunk) }
        }

        mutating func forget(_ job: String) {
            followers[job] = nil
            given[job] = nil
            lastNews[job] = nil
        }
    }

    private let state = NIOLockedValueBox(State())

    /// Routes a `job.output` or `job.state` event; other events are not for runs.
    func route(_ event: InboundMessage) {
        let update: Update
        switch event.kind {
        case .event(EventName.jobOutput.rawValue):
            guard let chunk = try? event.payload(OutputChunk.self) else { return }
            update = .output(chunk)
        case .event(EventName.jobState.rawValue):
            guard let record = try? event.payload(JobReply.self).job else { return }
            update = .state(record)
        default:
            return
        }
        deliver(update)
    }

    /// Hands `update` to the runs following its job (or keeps it while a `jobs.run` waits for its reply).
    func deliver(_ update: Update) {
        let followers: [AsyncStream<Update>.Continuation] = state.withLockedValue { state in
            if let followers = state.followers[update.job], !followers.isEmpty {
                state.noteGiven(update)
                state.lastNews[update.job] = .now
                // The job's last news: its runs fetch the rest themselves, and stop following here.
                if update.isFinal { state.forget(update.job) }
                return Array(followers.values)
            }
            if state.capturing > 0 {
                state.captured.append(update)
                if state.captured.count > Self.captureLimit { state.captured.removeFirst() }
            }
            return []
        }
        for follower in followers {
            follower.yield(update)
            if update.isFinal { follower.finish() }
        }
    }

    /// The jobs that runs follow now, each with the first chunk not handed to its runs yet (every one
    /// before it was), where following it on a new connection resumes.
    var followedJobs: [(job: String, fromSeq: Int)] {
        state.withLockedValue { state in state.followers.keys.map { ($0, state.given[$0]?.nextSeq ?? 0) } }
    }

    /// Those of ``followedJobs`` that have had no news for `silence`, to be asked for; each is counted
    /// as having had news now, so it is asked for again only after another such silence.
    func silentJobs(for silence: Duration) -> [(job: String, fromSeq: Int)] {
        let now = ContinuousClock.now
        return state.withLockedValue { state in
            let silent = state.followers.keys.filter { now - (state.lastNews[$0] ?? now) >= silence }
            for job in silent { state.lastNews[job] = now }
            return silent.map { ($0, state.given[$0]?.nextSeq ?? 0) }
        }
    }

    /// Keeps the events of unfollowed jobs until the matching ``endCapture()``.
    func beginCapture() {
        state.withLockedValue { $0.capturing += 1 }
    }

    func endCapture() {
        state.withLockedValue { state in
            state.capturing -= 1
            if state.capturing == 0 { state.captured = [] }
        }
    }

    /// The updates of `job` from now on, starting with those kept for it; the stream ends after the
    /// job's final state, or with the session.
    func follow(_ job: String) -> AsyncStream<Update> {
        let (stream, continuation) = AsyncStream.makeStream(of: Update.self)
        let key = UUID()
        let ended = state.withLockedValue { state in
            guard !state.ended else { return true }
            let kept = state.captured.filter { $0.job == job }
            state.captured.removeAll { $0.job == job }
            for update in kept {
                continuation.yield(update)
                state.noteGiven(update)
            }
            if kept.contains(where: \.isFinal) {
                state.given[job] = nil
                return true
            }
            state.followers[job, default: [:]][key] = continuation
            if state.lastNews[job] == nil { state.lastNews[job] = .now }
            return false
        }
        if ended { continuation.finish() }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLockedValue { state in
                state.followers[job]?[key] = nil
                if state.followers[job]?.isEmpty == true { state.forget(job) }
            }
        }
        return stream
    }

    /// Ends the streams of `job`'s followers: it had ended before they started to follow it.
    func stopFollowing(_ job: String) {
        let followers = state.withLockedValue { state in
            defer { state.forget(job) }
            return state.followers[job].map { Array($0.values) } ?? []
        }
        for follower in followers { follower.finish() }
    }

    /// The session has ended: every run's stream ends.
    func end() {
        let followers = state.withLockedValue { state in
            state.ended = true
            defer {
                state.followers = [:]
                state.given = [:]
                state.lastNews = [:]
            }
            return state.followers.values.flatMap(\.values)
        }
        for follower in followers { follower.finish() }
    }
}
