import DataCenterProtocol
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs the jobs the central side sends, within the allow-list and the limits of the agent's config.
///
/// A job's id is on disk before its process starts, so a job delivered again (after a reconnect, by
/// another worker) is answered with its state and never run twice. Its output and result go to the
/// spool, which delivers them once connected.
public actor JobRunner {
    private struct RunningJob {
        let stdin: AsyncStream<JobExecution.StdinCommand>.Continuation
        let stop: AsyncStream<JobExecution.StopReason>.Continuation
        var waiters: [CheckedContinuation<JobState, Never>] = []
    }

    private let actions: [String: AllowedAction]
    private let limits: AgentConfiguration.JobLimits
    private let store: JobStore
    private let spool: OutboundSpool
    private let logger: Logger
    private var running: [String: RunningJob] = [:]

    public init(actions: [AllowedAction], limits: AgentConfiguration.JobLimits, stateDirectory: String, spool: OutboundSpool, logger: Logger) throws {
        // A child that closes its stdin before we finish writing must not kill the agent with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        self.actions = Dictionary(actions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.limits = limits
        self.store = try JobStore(stateDirectory: stateDirectory)
        self.spool = spool
        self.logger = logger
    }

    /// Ends the jobs an earlier run of the agent left running (their processes went with it) as
    /// `lost`, and forgets finished records past their retention. Call once, before connecting.
    public func recover() async {
        store.prune(endedBefore: Date().addingTimeInterval(-limits.recordRetentionDays * 86_400))
        for var record in store.all() where !record.state.isFinal && running[record.id] == nil {
            record.state = .lost
            record.endedAt = Date()
            record.durationMs = Int(Date().timeIntervalSince(record.startedAt) * 1000)
            do {
                try store.save(record)
                try await spool.append(.finished(record.finished))
                logger.warning("job \(record.id) was running when the agent stopped: reported lost")
            } catch {
                logger.error("job \(record.id): cannot record it as lost: \(error)")
            }
        }
    }

    /// Starts a job, or answers with the state of the job that already had this id.
    /// - Throws: `forbidden` for an action not on the allow-list, `bad_request` for a parameter that
    ///   fails validation or a bad job id, `busy` at the concurrent-job limit, `internal` when the
    ///   record cannot be written (then nothing runs).
    public func start(_ request: JobStartRequest) throws(ProtocolError) -> JobState {
        guard JobStore.isValidJobID(request.job) else {
            throw ProtocolError(.badRequest, "job id must be 1 to 128 letters, digits or ._:- and not start with a dot")
        }
        if let existing = store.load(request.job) { return existing.state }
        guard let action = actions[request.action] else {
            logger.warning("job \(request.job) refused: action '\(request.action)' is not on the allow-list")
            throw ProtocolError(.forbidden, ActionRefusal.notAllowed(request.action).description)
        }
        let commandLine: (program: String, arguments: [String])
        do {
            commandLine = try action.commandLine(for: request.params)
        } catch {
            throw ProtocolError(.badRequest, error.description)
        }
        guard running.count < limits.maxConcurrent else {
            throw ProtocolError(.busy, "\(running.count) jobs are running, the limit is \(limits.maxConcurrent)")
        }
        let requested = request.timeoutSeconds > 0 ? request.timeoutSeconds : (action.timeoutSeconds ?? limits.defaultTimeoutSeconds)
        let timeoutSeconds = min(requested, limits.maxTimeoutSeconds)
        let record = AgentJobRecord(id: request.job, action: request.action, params: request.params, state: .running, startedAt: Date())
        do {
            try store.save(record)
        } catch {
            throw ProtocolError(.internal, "cannot record job \(request.job) on disk: \(error)")
        }

        let (stdin, stdinContinuation) = AsyncStream.makeStream(of: JobExecution.StdinCommand.self)
        let (stop, stopContinuation) = AsyncStream.makeStream(of: JobExecution.StopReason.self)
        if let text = request.stdin {
            stdinContinuation.yield(.data(text))
            stdinContinuation.yield(.endOfFile)
        }
        running[request.job] = RunningJob(stdin: stdinContinuation, stop: stopContinuation)
        let execution = JobExecution(
            program: commandLine.program, arguments: commandLine.arguments,
            timeout: .seconds(timeoutSeconds), grace: .milliseconds(Int64(limits.cancelGraceSeconds * 1000))
        )
        let sink = JobOutputSink(job: request.job, cap: limits.outputCapBytes, spool: spool)
        logger.notice("job \(request.job) started: \(request.action) (timeout \(timeoutSeconds) s)")
        Task {
            let began = ContinuousClock.now
            let outcome = await execution.run(sink: sink, stdin: stdin, stop: stop)
            await self.finish(record, outcome: outcome, duration: ContinuousClock.now - began)
        }
        return .running
    }

    /// Stops a running job (SIGTERM, SIGKILL after the grace period) and waits until it has ended.
    /// - Throws: `not_found` for a job this agent never ran, `conflict` for one already finished.
    public func cancel(_ job: String) async throws(ProtocolError) -> JobState {
        guard running[job] != nil else { throw finishedOrUnknown(job) }
        running[job]?.stop.yield(.cancelled)
        return await withCheckedContinuation { continuation in
            if running[job] != nil {
                running[job]!.waiters.append(continuation)
            } else {
                continuation.resume(returning: store.load(job)?.state ?? .cancelled)
            }
        }
    }

    /// Writes to a running job's stdin, and closes it when `endOfFile`.
    public func writeStdin(job: String, data: String, endOfFile: Bool) throws(ProtocolError) {
        guard let entry = running[job] else { throw finishedOrUnknown(job) }
        if !data.isEmpty { entry.stdin.yield(.data(data)) }
        if endOfFile { entry.stdin.yield(.endOfFile) }
    }

    /// Stops every running job and waits until each has ended (the agent is stopping).
    public func cancelAll() async {
        for job in running.keys {
            _ = try? await cancel(job)
        }
    }

    /// The ids of the jobs running now.
    public var runningJobs: [String] { running.keys.sorted() }

    /// The record of a job this agent accepted.
    public func record(_ job: String) -> AgentJobRecord? { store.load(job) }

    private func finishedOrUnknown(_ job: String) -> ProtocolError {
        if let record = store.load(job) { return ProtocolError(.conflict, "job \(job) has already ended (\(record.state.rawValue))") }
        return ProtocolError(.notFound, "no job \(job) on this host")
    }

    private func finish(_ started: AgentJobRecord, outcome: JobExecution.Outcome, duration: Duration) async {
        var record = started
        record.state = outcome.state
        record.exitCode = outcome.exitCode
        record.signal = outcome.signal
        record.endedAt = Date()
        record.durationMs = Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        do {
            try store.save(record)
            try await spool.append(.finished(record.finished))
        } catch {
            logger.error("job \(record.id): cannot record its end: \(error)")
        }
        let entry = running.removeValue(forKey: record.id)
        entry?.stdin.finish()
        entry?.stop.finish()
        for waiter in entry?.waiters ?? [] { waiter.resume(returning: record.state) }
        let status = record.exitCode.map { "exit \($0)" } ?? record.signal.map { "signal \($0)" } ?? "no status"
        logger.notice("job \(record.id) ended: \(record.state.rawValue), \(status), \(record.durationMs ?? 0) ms")
    }
}
