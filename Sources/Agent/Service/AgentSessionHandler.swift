import DataCenterClient
import DataCenterProtocol
import Logging

/// The agent's side of a connection: authenticates as the host, answers the central side's job and
/// timer requests, and delivers the spool's job output and results.
struct AgentSessionHandler: DataCenterSessionHandler {
    static let agentVersion = "1.0"

    let host: String
    let token: String
    let actions: [ActionSpec]
    let runner: JobRunner
    let timers: AgentTimers
    let spool: OutboundSpool
    let reporter: HostReporter
    let logger: Logger
    /// Spool entries sent and not yet acknowledged, at most.
    let window = 64

    func authentication() async throws -> (OperationName, any Encodable & Sendable) {
        (.authAgent, AgentAuthRequest(host: host, token: token, agentVersion: Self.agentVersion, actions: actions, timers: await timers.list))
    }

    func sessionOpened(_ session: DataCenterSession, authenticated reply: InboundMessage) async {
        let periods = (try? reply.payload(AgentAuthReply.self).reportPeriods) ?? ReportPeriods()
        await reporter.attach(session, periods: periods)
        await deliverSpool(to: session)
        await reporter.detach(session)
    }

    func handleRequest(_ request: InboundMessage, operation: String, session: DataCenterSession) async throws(ProtocolError) -> any Encodable & Sendable {
        switch OperationName(rawValue: operation) {
        case .jobStart?:
            let start = try request.payload(JobStartRequest.self)
            return JobStateReply(state: try await runner.start(start))
        case .jobCancel?:
            return JobStateReply(state: try await runner.cancel(try request.payload(JobQuery.self).job))
        case .jobStdin?:
            let stdin = try request.payload(JobStdinRequest.self)
            try await runner.writeStdin(job: stdin.job, data: stdin.data, endOfFile: stdin.eof)
            return EmptyPayload()
        case .jobsRunning?:
            return RunningJobsReply(jobs: await runner.runningJobs)
        case .timerAdd?:
            try await timers.add(try request.payload(TimerSpec.self))
            return EmptyPayload()
        case .timerRemove?:
            try await timers.remove(try request.payload(TimerQuery.self).name)
            return EmptyPayload()
        case .timerList?:
            return TimerListReply(timers: await timers.list)
        default:
            throw ProtocolError(.unknownOperation, "the agent does not handle '\(operation)'")
        }
    }

    func handleEvent(_ event: InboundMessage, name: String, session: DataCenterSession) async {
        logger.debug("event \(name) from the central side: nothing to do")
    }

    /// Sends the spool in order, from its oldest entry, for as long as the session lasts: up to
    /// ``window`` requests in flight, each entry removed once acknowledged. An entry the central side
    /// refuses (it does not know the job) is dropped with a log line rather than resent for ever.
    private func deliverSpool(to session: DataCenterSession) async {
        await withTaskGroup(of: Void.self) { group in
            var cursor: UInt64 = 0
            var inFlight = 0
            while !Task.isCancelled {
                if inFlight >= window {
                    await group.next()
                    inFlight -= 1
                    continue
                }
                let batch = await spool.entries(after: cursor, limit: window - inFlight)
                if batch.isEmpty {
                    await spool.waitForEntries(after: cursor)
                    continue
                }
                for entry in batch {
                    let pending: DataCenterSession.PendingReply
                    do {
                        pending = try await post(entry.message, on: session)
                    } catch {
                        group.cancelAll()
                        return
                    }
                    cursor = entry.sequence
                    inFlight += 1
                    group.addTask { await acknowledge(entry, pending, session: session) }
                }
            }
        }
    }

    private func post(_ message: OutboundSpool.Message, on session: DataCenterSession) async throws -> DataCenterSession.PendingReply {
        switch message {
        case .output(let chunk): return try await session.post(.jobOutput, chunk)
        case .finished(let finished): return try await session.post(.jobFinished, finished)
        }
    }

    private func acknowledge(_ entry: OutboundSpool.Entry, _ pending: DataCenterSession.PendingReply, session: DataCenterSession) async {
        do {
            try await pending.value()
            await spool.remove(entry.sequence)
        } catch let error as ProtocolError where error.code != .internal {
            logger.warning("central side refused \(entry.message.operation.rawValue) #\(entry.sequence): \(error); dropped")
            await spool.remove(entry.sequence)
        } catch {
            // Not acknowledged (closed, timed out, central trouble): it stays for the next connection.
            // A timeout on a live connection means the session is unhealthy: start over.
            if error is DataCenterSession.TimedOut { session.close() }
        }
    }
}
