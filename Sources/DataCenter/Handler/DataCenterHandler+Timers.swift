import DataCenterProtocol
import Foundation
import Registry
import Worker

extension DataCenterHandler {
    // MARK: - Operators and services: sent on to the agent (DataCenterHandler+AgentRelay)

    func listTimers(_ request: Request) async throws {
        let host = try request.payload(HostQuery.self).host
        try await relay(.timerList, EmptyPayload(), for: request, pending: relayEntry(request, .timersList, host: host))
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
        try await relay(.timerAdd, timer, for: request, pending: pending)
    }

    func removeTimer(_ request: Request) async throws {
        let remove = try request.payload(TimersRemoveRequest.self)
        var pending = relayEntry(request, .timersRemove, host: remove.host)
        pending.timerName = remove.name
        try await relay(.timerRemove, TimerQuery(name: remove.name), for: request, pending: pending)
    }

    // MARK: - The agent's reply

    /// Records the host's timers as the agent's successful reply to `pending` leaves them, and returns them.
    func recordTimers(after pending: AgentRequestRelay.Pending, reply: InboundMessage, host: String, data: GlobalData) async throws -> [TimerSpec] {
        let hosts = HostStore(data: data)
        var timers = try await hosts.timers(of: host)
        switch pending.operation {
        case .timersList:
            timers = try reply.payload(TimerListReply.self).timers
        case .timersAdd:
            if let timer = pending.timer { timers = timers.filter { $0.name != timer.name } + [timer] }
        default:
            timers.removeAll { $0.name == pending.timerName }
        }
        timers.sort { $0.name < $1.name }
        try await hosts.setTimers(timers, of: host)
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
