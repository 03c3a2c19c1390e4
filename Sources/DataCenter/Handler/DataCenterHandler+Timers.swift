import DataCenterProtocol
import Foundation
import Registry
import Worker

extension DataCenterHandler {
    // MARK: - Operators and services: sent on to the agent (DataCenterHandler+AgentRelay), or queued while it is offline

    func listTimers(_ request: Request) async throws {
        let host = try request.payload(HostQuery.self).host
        do {
            try await relay(.timerList, EmptyPayload(), for: request, pending: relayEntry(request, .timersList, host: host))
        } catch let error as ProtocolError where error.code == .notOnline {
            // The last list its agent stated, as the changes waiting for it will leave it.
            let waiting = try await pendingTimerChanges(request.context.worker.globalData).changes(of: host)
            let timers = TimerChange.applying(waiting, to: try await request.hosts.timers(of: host))
            try await answerNow(request, HostTimersReply(timers: timers, pending: waiting))
        }
    }

    func addTimer(_ request: Request) async throws {
        let add = try request.payload(TimersAddRequest.self)
        let timer = add.timer
        guard TimerSpec.isValidName(timer.name) else {
            throw ProtocolError(.badRequest, "'name' must be 1 to 64 of A-Z a-z 0-9 . _ : - and not start with a dot")
        }
        guard timer.everySeconds >= 1 else { throw ProtocolError(.badRequest, "'everySeconds' must be at least 1") }
        guard let actions = try await request.hosts.actions(of: add.host) else { throw ProtocolError(.notFound, "no host '\(add.host)'") }
        guard let spec = actions.first(where: { $0.name == timer.action }) else {
            throw ProtocolError(.forbidden, "action '\(timer.action)' is not allowed on \(add.host)")
        }
        try spec.validate(timer.params)
        var pending = relayEntry(request, .timersAdd, host: add.host)
        pending.timer = timer
        try await change(.add(timer, by: request.role.requester), sending: .timerAdd, timer, for: request, pending: pending)
    }

    func removeTimer(_ request: Request) async throws {
        let remove = try request.payload(TimersRemoveRequest.self)
        var pending = relayEntry(request, .timersRemove, host: remove.host)
        pending.timerName = remove.name
        try await change(.remove(remove.name, by: request.role.requester), sending: .timerRemove, TimerQuery(name: remove.name), for: request, pending: pending)
    }

    /// Sends a timer change on to the host's agent, or queues it when the agent is not connected and
    /// answers at once with the host's timers as the queued changes will leave them.
    private func change(
        _ change: TimerChange, sending op: OperationName, _ data: some Encodable & Sendable, for request: Request, pending: AgentRequestRelay.Pending
    ) async throws {
        let host = pending.host
        let queue = pendingTimerChanges(request.context.worker.globalData)
        do {
            try await relay(op, data, for: request, pending: pending)
            // Sent now, it supersedes a change of the same timer still waiting for the agent.
            return try await queue.discard(change.name, of: host)
        } catch let error as ProtocolError where error.code == .notOnline {}

        let known = try await request.hosts.timers(of: host)
        if change.change == .remove, !TimerChange.applying(try await queue.changes(of: host), to: known).contains(where: { $0.name == change.name }) {
            throw ProtocolError(.notFound, "no timer \(change.name) on host '\(host)'")
        }
        let waiting = try await queue.queue(change, for: host)
        logger.info("timer change queued for an offline host", metadata: ["host": "\(host)", "timer": "\(change.name)", "change": "\(change.change.rawValue)"])
        try await answerNow(request, HostTimersReply(timers: TimerChange.applying(waiting, to: known), pending: waiting, queued: true))
        // The agent may have connected since the relay found it offline, and taken the queue before
        // this change was in it.
        if try await request.context.api.isUIDOnline(ConnectionRole.agentUID(host)) {
            try await deliverQueuedTimerChanges(of: host, worker: request.context.worker)
        }
    }

    /// The timer changes waiting for offline hosts, expiring as configured.
    func pendingTimerChanges(_ data: GlobalData) -> PendingTimerChanges {
        PendingTimerChanges(data: data, expirySeconds: configuration.timerChangeExpirySeconds)
    }

    /// Answers a `timers.*` request that does not wait for the agent.
    private func answerNow(_ request: Request, _ reply: HostTimersReply) async throws {
        try await request.context.api.sendToCurrentClient(.text(Envelope.reply(to: request.id, data: reply)))
    }

    // MARK: - Queued changes, at the agent's connect

    /// Sends the agent that has just authenticated the timer changes queued while it was offline, after
    /// it announced its timers. Of workers that try at once one takes them; the agent's replies record
    /// the timers (``completeQueuedChange``) and a change it did not answer is queued again.
    func deliverQueuedTimerChanges(of host: String, worker: WorkerContext) async throws {
        let queue = pendingTimerChanges(worker.globalData)
        let changes = try await queue.takeAll(of: host)
        let relay = AgentRequestRelay(data: worker.globalData)
        for (index, change) in changes.enumerated() {
            var pending = AgentRequestRelay.Pending(
                relayID: AgentRequestRelay.newRelayID(), host: host, deadline: .now.adding(seconds: configuration.relayTimeoutSeconds),
                client: nil, re: nil, operation: change.timer == nil ? .timersRemove : .timersAdd)
            pending.timer = change.timer
            pending.timerName = change.name
            pending.queuedChange = change
            let request: String
            if let timer = change.timer {
                request = Envelope.request(id: pending.relayID, op: .timerAdd, data: timer)
            } else {
                request = Envelope.request(id: pending.relayID, op: .timerRemove, data: TimerQuery(name: change.name))
            }
            do {
                try await relay.add(pending)
                try await worker.api.sendToUID(ConnectionRole.agentUID(host), .text(request))
            } catch {
                // Not sent: this change and the rest wait for the next connect.
                for unsent in changes[index...].reversed() { try await queue.restore(unsent, for: host) }
                throw error
            }
        }
        if !changes.isEmpty { logger.info("queued timer changes sent", metadata: ["host": "\(host)", "changes": "\(changes.count)"]) }
    }

    /// The agent's reply to a queued change: the host's timers are recorded; a removal of a timer it
    /// does not have is done all the same; anything else it refuses (its allow-list changed meanwhile)
    /// is dropped with a log line, nobody waiting for the answer.
    func completeQueuedChange(_ pending: AgentRequestRelay.Pending, error: ProtocolError?, reply: InboundMessage, host: String, data: GlobalData) async throws {
        guard let change = pending.queuedChange else { return }
        if let error, !(change.change == .remove && error.code == .notFound) {
            logger.notice(
                "the agent refused a queued timer change",
                metadata: ["host": "\(host)", "timer": "\(change.name)", "change": "\(change.change.rawValue)", "by": "\(change.requestedBy)", "error": "\(error)"])
            return
        }
        _ = try await recordTimers(after: pending, reply: reply, host: host, data: data)
    }

    // MARK: - The agent's reply

    /// Records the host's timers as the agent's successful reply to `pending` leaves them, and returns them.
    func recordTimers(after pending: AgentRequestRelay.Pending, reply: InboundMessage, host: String, data: GlobalData) async throws -> [TimerSpec] {
        let listed = pending.operation == .timersList ? try reply.payload(TimerListReply.self).timers : nil
        let timers = try await HostStore(data: data).updateTimers(of: host) { stored in
            var timers = stored
            switch pending.operation {
            case .timersList:
                timers = listed ?? []
            case .timersAdd:
                if let timer = pending.timer { timers = timers.filter { $0.name != timer.name } + [timer] }
            default:
                timers.removeAll { $0.name == pending.timerName }
            }
            return timers.sorted { $0.name < $1.name }
        }
        if pending.operation != .timersList {
            logger.info("timers changed", metadata: ["host": "\(host)", "op": "\(pending.operation.rawValue)"])
        }
        return timers
    }

    // MARK: - Timer runs

    /// Creates the record of a timer run the first time the agent reports on it (its output or its end):
    /// the agent starts these jobs on its own, so the central side has not queued them.
    /// A run of a timer the central side no longer knows (removed before the run reported) has an empty action.
    func recordTimerRun(_ job: String, of host: String, _ request: Request) async throws {
        guard let run = TimerSpec.run(of: job), try await request.jobs.record(job) == nil else { return }
        let timer = try await request.hosts.timers(of: host).first { $0.name == run.timer }
        let spec = try await request.hosts.actions(of: host)?.first { $0.name == timer?.action }
        let started = Timestamp(run.startedAt)
        let record = JobRecord(
            id: job, host: host, action: timer?.action ?? "", params: timer?.params ?? [:], state: .running,
            requestedBy: "timer:\(run.timer)", queuedAt: started, startedAt: started,
            // The timeout the agent gives the run; an agent that does not say gets the longest allowed.
            timeoutSeconds: min(spec?.timeoutSeconds ?? configuration.maximumJobTimeoutSeconds, configuration.maximumJobTimeoutSeconds))
        if try await request.jobs.createStarted(record) {
            await pushState(record, api: request.context.api)
        }
    }
}
