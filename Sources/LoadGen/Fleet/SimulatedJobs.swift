import DataCenterClient
import DataCenterProtocol
import Synchronization

/// The jobs of one simulated agent, as the real agent's `JobRunner` answers for them: a job id runs
/// at most once (a repeated `job.start` gets the job's state), its output goes back as numbered
/// `job.output` requests, each acknowledged before the next, then `job.finished`; `job.cancel` stops
/// it and answers once it has ended.
///
/// Unlike the real agent it keeps no spool: a message whose connection closes under it is counted as
/// undelivered (the central side then ends the job as lost).
final class SimulatedJobs: Sendable {
    private struct Running {
        /// Produces the output; cancelled by `job.cancel`.
        let work: Task<JobState?, Never>
        /// Sends `job.finished` once `work` ended; never cancelled.
        let finish: Task<Void, Never>
    }

    private struct State {
        var running: [String: Running] = [:]
        var ended: [String: JobState] = [:]
    }

    private let host: String
    private let counters: FleetCounters
    private let state = Mutex(State())

    init(host: String, counters: FleetCounters) {
        self.host = host
        self.counters = counters
    }

    /// `job.start`: starts the job on `session`, or answers with the state of a job id seen before.
    func start(_ request: JobStartRequest, on session: DataCenterSession) throws(ProtocolError) -> JobState {
        guard FleetActions.specs.contains(where: { $0.name == request.action }) else {
            throw ProtocolError(.forbidden, "action '\(request.action)' is not on this agent's allow-list")
        }
        return state.withLock { state in
            if state.running[request.job] != nil { return .running }
            if let ended = state.ended[request.job] { return ended }
            counters.increment(\.jobsStarted)
            let started = ContinuousClock.now
            let work = Task { await self.produce(request, on: session) }
            let finish = Task {
                let outcome = await work.value
                await self.finish(request.job, outcome, started: started, on: session)
            }
            state.running[request.job] = Running(work: work, finish: finish)
            return .running
        }
    }

    /// `job.cancel`: stops a running job and answers with its final state once `job.finished` is sent.
    func cancel(_ job: String) async throws(ProtocolError) -> JobState {
        let found = state.withLock { state -> (Running?, JobState?) in (state.running[job], state.ended[job]) }
        switch found {
        case (let running?, _):
            running.work.cancel()
            await running.finish.value
            return state.withLock { $0.ended[job] } ?? .cancelled
        case (nil, let ended?):
            throw ProtocolError(.conflict, "job \(job) has already ended (\(ended.rawValue))")
        case (nil, nil):
            throw ProtocolError(.notFound, "no job \(job) on this host")
        }
    }

    /// The ids of the running jobs (`jobs.running`).
    var runningJobs: [String] {
        state.withLock { $0.running.keys.sorted() }
    }

    /// Sends the action's output; returns the final state, or nil when the connection failed under it.
    private func produce(_ request: JobStartRequest, on session: DataCenterSession) async -> JobState? {
        let lines = request.action == FleetActions.echo ? FleetActions.lines : 1
        do {
            for seq in 0..<lines {
                let text = "line \(seq + 1) of \(request.action) on \(host)\n"
                try await session.request(.jobOutput, OutputChunk(job: request.job, seq: seq, stream: .stdout, data: text))
                counters.increment(\.chunks)
            }
            if request.action == FleetActions.wait {
                try await Task.sleep(for: .seconds(request.timeoutSeconds))
                return .timedOut
            }
            return .done
        } catch {
            return Task.isCancelled ? .cancelled : nil
        }
    }

    private func finish(_ job: String, _ outcome: JobState?, started: ContinuousClock.Instant, on session: DataCenterSession) async {
        let final = outcome ?? .lost
        if let outcome {
            let milliseconds = Int(((ContinuousClock.now - started).seconds * 1000).rounded())
            let finished = JobFinished(
                job: job, state: outcome, exitCode: outcome == .done ? 0 : nil, signal: outcome == .cancelled ? 15 : nil, durationMs: milliseconds)
            do {
                try await session.request(.jobFinished, finished)
                counters.increment(outcome == .cancelled ? \.jobsCancelled : \.jobsFinished)
            } catch {
                counters.increment(\.undelivered)
            }
        } else {
            counters.increment(\.undelivered)
        }
        state.withLock { state in
            state.running[job] = nil
            state.ended[job] = final
        }
    }
}
