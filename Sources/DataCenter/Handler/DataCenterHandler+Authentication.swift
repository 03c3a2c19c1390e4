import DataCenterProtocol
import Foundation
import Worker

extension DataCenterHandler {
    /// The first request of a connection: `auth.agent` or `auth.operator`, or a refusal and a close.
    func authenticate(_ context: EventContext, _ message: InboundMessage) async throws {
        guard case .request(let id, let op) = message.kind else {
            return try await refuse(context, re: nil, ProtocolError(.authRequired, "authenticate first (auth.agent or auth.operator)"), close: true)
        }
        do {
            switch OperationName(rawValue: op) {
            case .authAgent?: try await authenticateAgent(context, id: id, message: message)
            case .authOperator?: try await authenticateOperator(context, id: id, message: message)
            default: throw ProtocolError(.authRequired, "authenticate first (auth.agent or auth.operator)")
            }
        } catch let error as ProtocolError {
            try await refuse(context, re: id, error, close: true)
        } catch {
            logger.error("authentication failed on our side", metadata: ["op": "\(op)", "error": "\(error)"])
            try await refuse(context, re: id, ProtocolError(.internal, "\(error)"), close: true)
        }
    }

    private func authenticateAgent(_ context: EventContext, id: String, message: InboundMessage) async throws {
        let request = try message.payload(AgentAuthRequest.self)
        guard AgentAuthRequest.isValidHostName(request.host) else {
            throw ProtocolError(.badRequest, "'host' must be 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        guard tokens.verifyAgent(host: request.host, token: request.token) else {
            logger.notice("agent authentication failed", metadata: ["host": "\(request.host)", "client": "\(context.clientID)"])
            throw ProtocolError(.authFailed, "wrong, unknown or expired token for host '\(request.host)'")
        }
        let host = request.host
        let hosts = HostStore(data: context.worker.globalData)
        try await hosts.register(host, actions: request.actions)
        if let timers = request.timers { try await hosts.setTimers(timers, of: host) }
        // Whatever the previous connection was asked and did not answer, it never will.
        try await failRelayed(of: host, reason: "host '\(host)' reconnected before it answered", worker: context.worker)
        try await context.api.bindUID(context.clientID, ConnectionRole.agentUID(host))
        let wasOnline = try await hosts.setOnline(true, of: host)
        ConnectionRole.agent(host: host).record(in: context.session)
        let reply = AgentAuthReply(host: host, reportPeriods: configuration.reportPeriods)
        try await context.api.sendToCurrentClient(.text(Envelope.reply(to: id, data: reply)))
        logger.info("agent authenticated", metadata: ["host": "\(host)", "version": "\(request.agentVersion)", "client": "\(context.clientID)"])
        if !wasOnline {
            await push(.hostOnline, HostPresence(host: host, at: .now), to: [ConnectionRole.operatorsGroup], api: context.api)
        }
        try await startQueuedJobs(of: host, api: context.api, data: context.worker.globalData)
        try await deliverPendingCancels(of: host, api: context.api, jobs: JobStore(data: context.worker.globalData))
        try await deliverQueuedTimerChanges(of: host, worker: context.worker)
    }

    private func authenticateOperator(_ context: EventContext, id: String, message: InboundMessage) async throws {
        let request = try message.payload(OperatorAuthRequest.self)
        guard let entry = tokens.verifyOperator(token: request.token) else {
            logger.notice("operator authentication failed", metadata: ["client": "\(context.clientID)"])
            throw ProtocolError(.authFailed, "wrong, unknown or expired token")
        }
        let role: OperatorRole = entry.role == .service ? .service : .operator
        if role == .service {
            ConnectionRole.service(name: entry.name).record(in: context.session)
        } else {
            ConnectionRole.person(name: entry.name).record(in: context.session)
            // Services read replies as lines; only people's dashboards get every host event.
            try await context.api.joinGroup(context.clientID, ConnectionRole.operatorsGroup)
        }
        try await context.api.sendToCurrentClient(.text(Envelope.reply(to: id, data: OperatorAuthReply(operator: entry.name, role: role))))
        logger.info("operator authenticated", metadata: ["name": "\(entry.name)", "role": "\(role.rawValue)", "client": "\(context.clientID)"])
    }
}
