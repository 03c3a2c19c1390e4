import DataCenterClient
import DataCenterProtocol
import Synchronization

/// One simulated host agent: speaks the real agent's protocol through the same `DataCenterClient`
/// (authenticates with its host token, reconnects with full-jitter backoff, answers pings), sends the
/// reports the real agent sends on the periods the central side asks for, and answers job requests.
///
/// As the real agent: the VPS inventory and a host-info go out in full on every new connection; the
/// inventory never changes here, so it is not sent again; reports made while disconnected are dropped.
final class SimulatedAgent: DataCenterSessionHandler {
    static let agentVersion = "fleet-1.0"

    private struct Link {
        var session: DataCenterSession?
        /// The report periods, as the central side asked at the last authentication (nil before the first).
        var periods: ReportPeriods?
    }

    /// The real agent's own periods, for what the central side leaves out.
    private static let ownPeriods = ReportPeriods(hostInfo: 60, cpu: 10, bandwidth: 10)

    let host: SimulatedHost
    private let token: String
    private let jobs: SimulatedJobs
    private let counters: FleetCounters
    private let link = Mutex(Link())

    init(name: String, token: String, counters: FleetCounters) {
        self.host = SimulatedHost(name: name)
        self.token = token
        self.jobs = SimulatedJobs(host: name, counters: counters)
        self.counters = counters
    }

    func authentication() async throws -> (OperationName, any Encodable & Sendable) {
        (.authAgent, AgentAuthRequest(host: host.name, token: token, agentVersion: Self.agentVersion, actions: FleetActions.specs))
    }

    func sessionOpened(_ session: DataCenterSession, authenticated reply: InboundMessage) async {
        let requested = (try? reply.payload(AgentAuthReply.self).reportPeriods) ?? ReportPeriods()
        link.withLock { link in
            link.session = session
            link.periods = ReportPeriods(
                hostInfo: requested.hostInfo ?? Self.ownPeriods.hostInfo, cpu: requested.cpu ?? Self.ownPeriods.cpu,
                bandwidth: requested.bandwidth ?? Self.ownPeriods.bandwidth)
        }
        counters.increment(\.authentications)
        counters.increment(\.online)
        await send(.reportVPS, host.inventory(), on: session)
        await send(.reportHostInfo, host.hostInfo(), on: session)
        // Held for as long as the connection lasts: the client cancels this when it closes.
        while (try? await Task.sleep(for: .seconds(3600))) != nil {}
        counters.increment(\.online, by: -1)
        link.withLock { link in
            if link.session === session { link.session = nil }
        }
    }

    func handleRequest(_ request: InboundMessage, operation: String, session: DataCenterSession) async throws(ProtocolError) -> any Encodable & Sendable {
        switch OperationName(rawValue: operation) {
        case .jobStart?:
            return JobStateReply(state: try jobs.start(try request.payload(JobStartRequest.self), on: session))
        case .jobCancel?:
            return JobStateReply(state: try await jobs.cancel(try request.payload(JobQuery.self).job))
        case .jobsRunning?:
            return RunningJobsReply(jobs: jobs.runningJobs)
        default:
            throw ProtocolError(.unknownOperation, "the simulated agent does not handle '\(operation)'")
        }
    }

    func handleEvent(_ event: InboundMessage, name: String, session: DataCenterSession) async {}

    /// Sends the periodic reports for as long as the task runs, once the first authentication has said
    /// the periods; the first of each kind at a random point of its period (hosts of a real fleet do
    /// not start in step).
    func report() async {
        var first: ReportPeriods?
        while first == nil {
            guard (try? await Task.sleep(for: .milliseconds(100))) != nil else { return }
            first = link.withLock { $0.periods }
        }
        var schedule = ReportSchedule(periods: first!)
        while !Task.isCancelled {
            let (kind, due) = schedule.next()
            guard (try? await Task.sleep(until: due)) != nil else { return }
            let (session, periods) = link.withLock { ($0.session, $0.periods ?? Self.ownPeriods) }
            schedule.advance(kind, periods: periods)
            guard let session else { continue }
            switch kind {
            case .hostInfo: await send(.reportHostInfo, host.hostInfo(), on: session)
            case .cpu: await send(.reportCPU, host.cpu(), on: session)
            case .bandwidth: await send(.reportBandwidth, host.bandwidth(sentAt: SimulatedHost.nowMicros()), on: session)
            }
        }
    }

    private func send(_ name: EventName, _ report: some Encodable & Sendable, on session: DataCenterSession) async {
        if (try? await session.send(event: name, report)) != nil { counters.increment(\.reports) }
    }
}
