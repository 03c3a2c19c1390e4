import DataCenterProtocol
import Foundation
import Registry
import Worker

extension DataCenterHandler {
    // MARK: - Operators and services

    /// The most hosts a `jobs.runMany`, or jobs a `jobs.cancelMany`, may name.
    static let maximumBatch = 10_000

    func runJob(_ request: Request) async throws -> JobReply {
        let run = try request.payload(JobsRunRequest.self)
        guard let actions = try await request.hosts.actions(of: run.host) else { throw ProtocolError(.notFound, "no host '\(run.host)'") }
        let record = try newJob(on: run.host, allowing: actions, run.action, params: run.params, timeoutSeconds: run.timeoutSeconds, request)
        logger.info("job queued", metadata: ["job": "\(record.id)", "host": "\(record.host)", "action": "\(record.action)", "by": "\(record.requestedBy)"])
        try await start([record], stdin: run.stdin, request)
        return JobReply(job: record)
    }

    /// `jobs.runMany`: every host is checked before any job is stored, so a bad host refuses the whole request.
    func runJobs(_ request: Request) async throws -> JobsListReply {
        let run = try request.payload(JobsRunManyRequest.self)
        try requireBatch(run.hosts, of: "hosts")
        if let bad = run.hosts.first(where: { !AgentAuthRequest.isValidHostName($0) }) {
            throw ProtocolError(.badRequest, "'\(bad)' is not a host name (1 to 64 of A-Za-z0-9._-)")
        }
        let actions = try await request.hosts.actions(of: run.hosts)
        let records = try run.hosts.map { host in
            guard let allowed = actions[host] else { throw ProtocolError(.notFound, "no host '\(host)'") }
            return try newJob(on: host, allowing: allowed, run.action, params: run.params, timeoutSeconds: run.timeoutSeconds, request)
        }
        logger.info("jobs queued", metadata: ["jobs": "\(records.count)", "action": "\(run.action)", "by": "\(request.role.requester)"])
        try await start(records, stdin: run.stdin, request)
        return JobsListReply(jobs: records)
    }

    /// A queued job of `action` on `host`, once the host's allow-list lets it run with these parameters.
    private func newJob(
        on host: String, allowing actions: [ActionSpec], _ action: String, params: [String: String], timeoutSeconds: Int?, _ request: Request
    ) throws -> JobRecord {
        guard let spec = actions.first(where: { $0.name == action }) else {
            throw ProtocolError(.forbidden, "action '\(action)' is not allowed on \(host)")
        }
        do {
            try spec.validate(params)
        } catch {
            throw ProtocolError(error.code, "\(error.message) on \(host)")
        }
        // A job that names no timeout gets the one its agent would give it (the action's own).
        let timeout = timeoutSeconds ?? min(spec.timeoutSeconds ?? configuration.defaultJobTimeoutSeconds, configuration.maximumJobTimeoutSeconds)
        guard (1...configuration.maximumJobTimeoutSeconds).contains(timeout) else {
            throw ProtocolError(.badRequest, "'timeoutSeconds' must be 1 to \(configuration.maximumJobTimeoutSeconds)")
        }
        return JobRecord(
            id: JobStore.newID(), host: host, action: action, params: params,
            requestedBy: request.role.requester, queuedAt: .now, timeoutSeconds: timeout)
    }

    /// Stores new jobs, makes the requester their watcher and offers each to its agent at once
    /// (an agent that is not connected gets it when it authenticates).
    private func start(_ records: [JobRecord], stdin: String?, _ request: Request) async throws {
        try await request.jobs.create(records, stdin: stdin)
        let api = request.context.api
        for record in records {
            jobHosts.record(record.host, of: record.id)
            try await api.joinGroup(request.context.clientID, ConnectionRole.watchersGroup(record.id))
            try await sendStart(record, stdin: stdin, api: api)
        }
    }

    /// A batch of `name` must name 1 to `maximumBatch` of them, each once.
    private func requireBatch(_ names: [String], of name: String) throws {
        guard (1...Self.maximumBatch).contains(names.count) else {
            throw ProtocolError(.badRequest, "'\(name)' must list 1 to \(Self.maximumBatch)")
        }
        var seen = Set<String>()
        if let twice = names.first(where: { !seen.insert($0).inserted }) {
            throw ProtocolError(.badRequest, "'\(twice)' is in '\(name)' more than once")
        }
    }

    func listJobs(_ request: Request) async throws -> JobsListReply {
        let query = try request.payload(JobsListRequest.self)
        let limit = query.limit ?? 50
        guard (1...JobStore.recentLimit).contains(limit) else {
            throw ProtocolError(.badRequest, "'limit' must be 1 to \(JobStore.recentLimit)")
        }
        let recent = try await request.jobs.recentJobs()
        guard let host = query.host else { return JobsListReply(jobs: try await request.jobs.records(Array(recent.prefix(limit)))) }
        let records = try await request.jobs.records(recent).filter { $0.host == host }
        return JobsListReply(jobs: Array(records.prefix(limit)))
    }

    func showJob(_ request: Request, watch: Bool) async throws -> JobDetailReply {
        let query = try request.payload(JobOutputQuery.self)
        let id = query.job
        if watch {
            // Joined before reading, so nothing that happens after the read is missed (a chunk may come twice).
            try await request.context.api.joinGroup(request.context.clientID, ConnectionRole.watchersGroup(id))
        }
        guard var record = try await request.jobs.record(id) else { throw ProtocolError(.notFound, "no job '\(id)'") }
        let output = try await request.jobs.output(of: id, limit: configuration.outputLimitBytes)
        record.outputBytes = output.totalBytes
        guard let fromSeq = query.fromSeq else { return JobDetailReply(job: record, output: output.chunks) }
        return JobDetailReply(job: record, output: output.chunks.filter { $0.seq >= fromSeq })
    }

    func cancelJob(_ request: Request) async throws -> JobReply {
        let id = try request.payload(JobQuery.self).job
        guard let record = try await request.jobs.record(id) else { throw ProtocolError(.notFound, "no job '\(id)'") }
        if record.state.isFinal { throw ProtocolError(.conflict, "job '\(id)' has already ended (\(record.state.rawValue))") }
        let after = try await cancel([record], request)[id] ?? record
        if after.state.isFinal, after.state != .cancelled {
            throw ProtocolError(.conflict, "job '\(id)' has already ended (\(after.state.rawValue))")
        }
        return JobReply(job: after)
    }

    /// `jobs.cancelMany`: jobs that have ended already are answered as they are.
    func cancelJobs(_ request: Request) async throws -> JobsListReply {
        let ids = try request.payload(JobsCancelManyRequest.self).jobs
        try requireBatch(ids, of: "jobs")
        let records = try await request.jobs.records(ids)
        if records.count < ids.count {
            let found = Set(records.map(\.id))
            if let missing = ids.first(where: { !found.contains($0) }) { throw ProtocolError(.notFound, "no job '\(missing)'") }
        }
        let after = try await cancel(records.filter { !$0.state.isFinal }, request)
        return JobsListReply(jobs: records.map { after[$0.id] ?? $0 })
    }

    /// Cancels unfinished jobs, each memcached list written once for all of them.
    /// - Returns: the records afterwards, by job id (those that vanished meanwhile are left out).
    private func cancel(_ records: [JobRecord], _ request: Request) async throws -> [String: JobRecord] {
        let api = request.context.api
        var after: [String: JobRecord] = [:]
        // A queued job is cancelled here; if the agent took it meanwhile, it is cancelled there instead.
        let queued = records.filter { $0.state == .queued }.map(\.id)
        for change in try await request.jobs.update(queued, { if $0.state == .queued { $0.end(.cancelled) } }) {
            let record = change.after
            after[record.id] = record
            guard record.state == .cancelled else { continue }
            try? await sendCancel(record, api: api)
            await pushState(change, api: api)
        }
        // A running job is ended by its agent. The cancel is recorded first, so an agent that is not
        // connected now (a gateway restart) or loses its connection before the cancel reaches it gets
        // it when it authenticates again.
        let running = records.map { after[$0.id] ?? $0 }.filter { !$0.state.isFinal }.map(\.id)
        let marked = try await request.jobs.update(running) { if !$0.state.isFinal, $0.cancelRequestedAt == nil { $0.cancelRequestedAt = .now } }
        let newlyMarked = marked.filter { $0.before.cancelRequestedAt == nil && !$0.after.state.isFinal }
        try await request.jobs.addPendingCancels(newlyMarked.map(\.after))
        for record in marked.map(\.after) {
            after[record.id] = record
            if !record.state.isFinal { try await sendCancel(record, api: api) }
        }
        for change in newlyMarked { await pushState(change, api: api) }
        return after
    }

    func sendStdin(_ request: Request) async throws -> EmptyPayload {
        let stdin = try request.payload(JobStdinRequest.self)
        guard let record = try await request.jobs.record(stdin.job) else { throw ProtocolError(.notFound, "no job '\(stdin.job)'") }
        guard record.state == .running else {
            throw ProtocolError(.conflict, "job '\(stdin.job)' is \(record.state.rawValue), not running")
        }
        let api = request.context.api
        guard try await api.isUIDOnline(ConnectionRole.agentUID(record.host)) else {
            throw ProtocolError(.notOnline, "host '\(record.host)' is not connected")
        }
        let id = "stdin:\(stdin.job):\(UInt32.random(in: .min ... .max))"
        try await api.sendToUID(ConnectionRole.agentUID(record.host), .text(Envelope.request(id: id, op: .jobStdin, data: stdin)))
        return EmptyPayload()
    }

    /// `jobs.running` from an operator: the jobs running on the host's agent now, as the agent says
    /// (sent on to it; DataCenterHandler+AgentRelay).
    func listRunningJobs(_ request: Request) async throws {
        let host = try request.payload(HostQuery.self).host
        try await relay(.jobsRunning, EmptyPayload(), for: request, pending: relayEntry(request, .jobsRunning, host: host))
    }

    // MARK: - Agents

    /// `job.output`: kept and streamed to the job's watchers unless it came before; acknowledged either way.
    func receiveOutput(_ request: Request, host: String) async throws -> EmptyPayload {
        let chunk = try request.payload(OutputChunk.self)
        try await recordTimerRun(chunk.job, of: host, request)
        try await requireJob(chunk.job, of: host, in: request.jobs)
        if let json = try await request.jobs.appendOutput(chunk) {
            await push(.jobOutput, text: Envelope.event(.jobOutput, json: json), to: [ConnectionRole.watchersGroup(chunk.job)], api: request.context.api)
        }
        return EmptyPayload()
    }

    /// `job.finished`: the job's final state, exit status and duration; acknowledged even when it came before.
    func receiveFinished(_ request: Request, host: String) async throws -> EmptyPayload {
        let finished = try request.payload(JobFinished.self)
        guard finished.state.isFinal else {
            throw ProtocolError(.badRequest, "'state' must be done, failed, cancelled, timed_out or lost")
        }
        try await recordTimerRun(finished.job, of: host, request)
        let outputBytes = try await request.jobs.output(of: finished.job, limit: configuration.outputLimitBytes).totalBytes
        let updated = try await request.jobs.update(finished.job) { record in
            guard record.host == host else { throw ProtocolError(.forbidden, "job '\(finished.job)' belongs to another host") }
            // The agent's word replaces what the central side concluded without it (lost, or a state
            // from a `job.start` reply without an exit status).
            guard !record.state.isFinal || record.state == .lost || (record.exitCode == nil && record.signal == nil) else { return }
            record.end(finished.state)
            record.exitCode = finished.exitCode
            record.signal = finished.signal
            record.durationMs = finished.durationMs
            record.outputBytes = outputBytes
            if record.startedAt == nil, let ended = record.endedAt { record.startedAt = ended.adding(seconds: -Double(finished.durationMs) / 1000) }
        }
        guard let updated else { throw ProtocolError(.notFound, "no job '\(finished.job)'") }
        if updated.before != updated.after {
            logger.info("job finished", metadata: ["job": "\(updated.after.id)", "state": "\(updated.after.state.rawValue)"])
            await pushState(updated, api: request.context.api)
        }
        return EmptyPayload()
    }

    /// An agent's reply to a request of ours: `job.start` (accepted, already ran, or refused) or `job.cancel`.
    func handleAgentReply(re: String?, error: ProtocolError?, message: InboundMessage, host: String, context: EventContext) async throws {
        if let re, re.hasPrefix(AgentRequestRelay.relayPrefix) {
            return try await completeRelay(re, error: error, message: message, host: host, context: context)
        }
        guard let re, re.hasPrefix("start:") else {
            if let error { logger.notice("agent refused a request", metadata: ["host": "\(host)", "re": "\(re ?? "null")", "error": "\(error)"]) }
            return
        }
        let job = String(re.dropFirst("start:".count))
        let jobs = JobStore(data: context.worker.globalData)
        let answer: JobState
        if let error {
            // Busy: it stays queued and the sweep offers it again. Anything else: the agent will never run it.
            guard error.code != .busy else { return }
            logger.notice("agent refused a job", metadata: ["host": "\(host)", "job": "\(job)", "error": "\(error)"])
            answer = .failed
        } else {
            do {
                answer = try message.payload(JobStateReply.self).state
            } catch {
                logger.warning("unreadable job.start reply", metadata: ["host": "\(host)", "job": "\(job)", "error": "\(error)"])
                return
            }
        }
        let updated = try await jobs.update(job) { record in
            guard record.host == host, !record.state.isFinal else { return }
            if let error {
                record.end(answer)
                record.error = error.message
            } else if record.state == .queued, answer == .running || answer.isFinal {
                // Running, or already ended there: the agent's job.finished (kept on its disk until
                // acknowledged) brings the final state with its exit status; ending the record here
                // would show operators an end without one first.
                record.state = .running
                record.startedAt = .now
            }
        }
        guard let updated else { return }
        jobHosts.record(updated.after.host, of: updated.after.id)
        if updated.before != updated.after { await pushState(updated, api: context.api) }
    }

    // MARK: - Delivery

    /// Sends `job.start` for every job queued for `host` (after its agent authenticated).
    func startQueuedJobs(of host: String, api: ClusterAPI, data: GlobalData) async throws {
        let jobs = JobStore(data: data)
        for record in try await jobs.records(try await jobs.queue(of: host)) where record.state == .queued {
            try await sendStart(record, api: api, jobs: jobs)
        }
    }

    /// Offers a queued job to its host's agent, if it is connected. The agent runs a job id at most once,
    /// so offering it again (after a reconnect, from the sweep) is safe.
    func sendStart(_ record: JobRecord, api: ClusterAPI, jobs: JobStore) async throws {
        try await sendStart(record, stdin: try await jobs.stdin(of: record.id), api: api)
    }

    /// Offers a queued job whose standard input is known (it was just stored) to its host's agent.
    func sendStart(_ record: JobRecord, stdin: String?, api: ClusterAPI) async throws {
        let start = JobStartRequest(
            job: record.id, action: record.action, params: record.params, stdin: stdin,
            timeoutSeconds: record.timeoutSeconds ?? configuration.defaultJobTimeoutSeconds)
        try await api.sendToUID(ConnectionRole.agentUID(record.host), .text(Envelope.request(id: "start:\(record.id)", op: .jobStart, data: start)))
    }

    /// Sends the cancels recorded for `host`'s jobs that are still running (after its agent authenticated),
    /// and forgets those of jobs that have ended meanwhile.
    func deliverPendingCancels(of host: String, api: ClusterAPI, jobs: JobStore) async throws {
        let pending = try await jobs.pendingCancels(of: host)
        guard !pending.isEmpty else { return }
        let running = try await jobs.records(pending).filter { !$0.state.isFinal }
        let ended = Set(pending).subtracting(running.map(\.id))
        if !ended.isEmpty { try await jobs.removePendingCancels(ended, host: host) }
        for record in running {
            logger.info("cancel delivered after a reconnect", metadata: ["job": "\(record.id)", "host": "\(host)"])
            try await sendCancel(record, api: api)
        }
    }

    /// Asks the job's agent to cancel it (nothing happens when the agent is not connected).
    func sendCancel(_ record: JobRecord, api: ClusterAPI) async throws {
        let cancel = Envelope.request(id: "cancel:\(record.id)", op: .jobCancel, data: JobQuery(job: record.id))
        try await api.sendToUID(ConnectionRole.agentUID(record.host), .text(cancel))
    }

    /// Tells the job's watchers and every operator its new state.
    func pushState(_ record: JobRecord, api: ClusterAPI) async {
        await push(.jobState, JobReply(job: record), to: [ConnectionRole.operatorsGroup, ConnectionRole.watchersGroup(record.id)], api: api)
    }

    /// Tells the job's watchers and every operator its state after `change`, from the JSON stored
    /// for it when there is that (the `job.state` data is `{"job": record}`).
    func pushState(_ change: JobStore.Change, api: ClusterAPI) async {
        guard let json = change.json else { return await pushState(change.after, api: api) }
        let text = Envelope.event(.jobState, json: Array(#"{"job":"#.utf8) + json + [UInt8(ascii: "}")])
        await push(.jobState, text: text, to: [ConnectionRole.operatorsGroup, ConnectionRole.watchersGroup(change.after.id)], api: api)
    }

    /// Checks that `job` is one of `host`'s, reading its record only the first time this worker checks it.
    private func requireJob(_ job: String, of host: String, in jobs: JobStore) async throws {
        var owner = jobHosts.host(of: job)
        if owner == nil {
            guard let record = try await jobs.record(job) else { throw ProtocolError(.notFound, "no job '\(job)'") }
            jobHosts.record(record.host, of: job)
            owner = record.host
        }
        guard owner == host else { throw ProtocolError(.forbidden, "job '\(job)' belongs to another host") }
    }
}

extension JobRecord {
    /// Moves the job to the final `state` now.
    mutating func end(_ state: JobState, at now: Timestamp = .now) {
        self.state = state
        endedAt = now
        if let startedAt { durationMs = Int((now.date.timeIntervalSince(startedAt.date) * 1000).rounded()) }
    }
}
