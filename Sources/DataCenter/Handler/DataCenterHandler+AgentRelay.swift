import DataCenterProtocol
import Foundation
import Wire
import Worker

extension DataCenterHandler {
    /// A new pending entry for `request`, an operator request to `host` that `operation`'s agent request answers.
    func relayEntry(_ request: Request, _ operation: OperationName, host: String) -> AgentRequestRelay.Pending {
        AgentRequestRelay.Pending(
            relayID: AgentRequestRelay.newRelayID(), host: host, deadline: .now.adding(seconds: configuration.relayTimeoutSeconds),
            client: request.context.clientID.description, re: request.id, operation: operation)
    }

    /// Sends `op` to `host`'s agent under the relay id of `pending` and returns without a reply: the
    /// operator's reply goes out when the agent answers (``completeRelay``), from whichever worker that is.
    /// - Throws: `not_found` for an unknown host, `not_online` when its agent is not connected, `busy`
    ///   when too many requests wait for agents already.
    func relay(_ op: OperationName, _ data: some Encodable & Sendable, for request: Request, pending: AgentRequestRelay.Pending) async throws {
        let host = pending.host
        guard try await request.hosts.actions(of: host) != nil else { throw ProtocolError(.notFound, "no host '\(host)'") }
        let api = request.context.api
        guard try await api.isUIDOnline(ConnectionRole.agentUID(host)) else {
            throw ProtocolError(.notOnline, "host '\(host)' is not connected; only its agent can answer this")
        }
        try await AgentRequestRelay(data: request.context.worker.globalData).add(pending)
        try await api.sendToUID(ConnectionRole.agentUID(host), .text(Envelope.request(id: pending.relayID, op: op, data: data)))
    }

    /// The agent answered a relayed request: the operator gets the agent's error, or the reply data of
    /// the operator's operation (for `timers.*`, after the host's timers are recorded).
    func completeRelay(_ relayID: String, error: ProtocolError?, message: InboundMessage, host: String, context: EventContext) async throws {
        let data = context.worker.globalData
        guard let pending = try await AgentRequestRelay(data: data).take(relayID, host: host) else { return }
        if pending.queuedChange != nil {
            return try await completeQueuedChange(pending, error: error, reply: message, host: host, data: data)
        }
        let reply: String
        if let error {
            reply = Envelope.reply(to: pending.re, error: error)
        } else if pending.operation == .jobsRunning {
            reply = Envelope.reply(to: pending.re, data: try message.payload(RunningJobsReply.self))
        } else {
            let timers = try await recordTimers(after: pending, reply: message, host: host, data: data)
            let waiting = try await pendingTimerChanges(data).changes(of: host)
            reply = Envelope.reply(to: pending.re, data: HostTimersReply(timers: TimerChange.applying(waiting, to: timers), pending: waiting))
        }
        try await answerRelayed(pending, reply, api: context.api)
    }

    /// Answers every request still waiting for `host`'s agent with `not_online` (it went offline, or
    /// connected again without having replied); queued timer changes among them are queued again.
    func failRelayed(of host: String, reason: String, worker: WorkerContext) async throws {
        for pending in try await AgentRequestRelay(data: worker.globalData).takeAll(host: host) {
            try await fail(pending, ProtocolError(.notOnline, reason), worker: worker)
        }
    }

    /// Answers with `timeout` every request whose agent, still connected, has not replied by its
    /// deadline; queued timer changes among them are queued again and sent again to agents still
    /// connected (as the sweep offers queued jobs again).
    func failOverdueRelayed(worker: WorkerContext) async throws {
        var requeued: Set<String> = []
        for pending in try await AgentRequestRelay(data: worker.globalData).takeOverdue(now: .now) {
            logger.notice("agent did not answer in time", metadata: ["host": "\(pending.host)", "op": "\(pending.operation.rawValue)"])
            let error = ProtocolError(.timeout, "host '\(pending.host)' did not answer in time (its agent is connected but silent)")
            try await fail(pending, error, worker: worker)
            if pending.queuedChange != nil { requeued.insert(pending.host) }
        }
        for host in requeued where try await worker.api.isUIDOnline(ConnectionRole.agentUID(host)) {
            try await deliverQueuedTimerChanges(of: host, worker: worker)
        }
    }

    private func fail(_ pending: AgentRequestRelay.Pending, _ error: ProtocolError, worker: WorkerContext) async throws {
        if let change = pending.queuedChange {
            try await pendingTimerChanges(worker.globalData).restore(change, for: pending.host)
        } else {
            try await answerRelayed(pending, Envelope.reply(to: pending.re, error: error), api: worker.api)
        }
    }

    private func answerRelayed(_ pending: AgentRequestRelay.Pending, _ reply: String, api: ClusterAPI) async throws {
        guard let text = pending.client, let client = ClientID(text) else { return }
        // The operator may have gone meanwhile: nothing to answer then.
        try? await api.sendToClient(client, .text(reply))
    }
}
