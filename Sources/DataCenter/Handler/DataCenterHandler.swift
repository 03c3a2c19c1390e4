import DataCenterProtocol
import Foundation
import Logging
import Registry
import Wire
import Worker

/// The central side of the datacenter application: the event handler that the business workers run
/// (`datacentered worker --handler datacenter`).
///
/// It authenticates agents, operators and services, keeps every host's state and every job in
/// memcached (so any worker answers and a worker's death loses nothing), pushes changes to the
/// operators, and hands jobs to agents. The envelope is `DataCenterProtocol`'s.
public struct DataCenterHandler: EventHandler {
    let configuration: DataCenterConfiguration
    let tokens: TokenVerifier
    let gateways: GatewayRegistry
    let logger: Logger
    /// What this worker last stored of each host's reports (`handleReport`).
    let reportFingerprints = ReportFingerprints()
    /// The jobs whose host this worker has checked (`job.output`).
    let jobHosts = JobHosts()

    /// Events a worker should run at once with this handler (`WorkerConfiguration.maxConcurrentEvents`):
    /// each awaits several memcached round trips, and its state is in memcached, changed with
    /// compare-and-swap, so events of different clients are as safe at once in one worker as in two.
    public static let concurrentEvents = 64

    /// - Parameter gateways: the gateway registry, for `cluster.stats`.
    public init(configuration: DataCenterConfiguration, gateways: GatewayRegistry, logger: Logger) {
        self.configuration = configuration
        self.tokens = TokenVerifier(path: configuration.tokenFile, logger: logger)
        self.gateways = gateways
        self.logger = logger
    }

    public func onWorkerStart(_ worker: WorkerContext) async throws {
        startSweeps(worker)
    }

    public func onMessage(_ context: EventContext, message: ClientMessage) async throws {
        let role = ConnectionRole(session: context.session)
        let inbound: InboundMessage
        switch InboundMessage.decode(Data(message.bytes.readableBytesView)) {
        case .failure(let failure):
            // Before authentication nothing but a good `auth.*` keeps the connection.
            return try await refuse(context, re: failure.re, failure.error, close: role == nil)
        case .success(let decoded):
            inbound = decoded
        }
        guard let role else { return try await authenticate(context, inbound) }
        switch inbound.kind {
        case .request(let id, let op):
            let request = Request(id: id, message: inbound, role: role, context: context)
            let reply: String?
            do {
                reply = try await answer(op, request)
            } catch let error as ProtocolError {
                reply = Envelope.reply(to: id, error: error)
            } catch {
                logger.error("request failed", metadata: ["op": "\(op)", "error": "\(error)"])
                reply = Envelope.reply(to: id, error: ProtocolError(.internal, "\(error)"))
            }
            if let reply { try await context.api.sendToCurrentClient(.text(reply)) }
        case .reply(let re, let error):
            guard case .agent(let host) = role else { return }
            try await handleAgentReply(re: re, error: error, message: inbound, host: host, context: context)
        case .event(let name):
            guard case .agent(let host) = role else { return }
            try await handleReport(name, message: inbound, host: host, context: context)
        }
    }

    public func onClose(_ context: EventContext) async throws {
        guard case .agent(let host)? = ConnectionRole(session: context.session) else { return }
        try await markOfflineIfGone([host], worker: context.worker)
    }

    /// One request from an authenticated connection.
    struct Request {
        let id: String
        let message: InboundMessage
        let role: ConnectionRole
        let context: EventContext

        func payload<Payload: Decodable>(_ type: Payload.Type) throws(ProtocolError) -> Payload {
            try message.payload(type)
        }

        var hosts: HostStore { HostStore(data: context.worker.globalData) }
        var jobs: JobStore { JobStore(data: context.worker.globalData) }
    }

    /// The reply text to a request, by operation and role; nil for a request sent on to an agent,
    /// which is answered when the agent replies.
    private func answer(_ op: String, _ request: Request) async throws -> String? {
        guard let operation = OperationName(rawValue: op) else {
            throw ProtocolError(.unknownOperation, "unknown operation '\(op)'")
        }
        let data: any Encodable & Sendable
        switch (operation, request.role) {
        case (.authAgent, _), (.authOperator, _):
            throw ProtocolError(.conflict, "this connection is already authenticated")
        case (.jobOutput, .agent(let host)):
            data = try await receiveOutput(request, host: host)
        case (.jobFinished, .agent(let host)):
            data = try await receiveFinished(request, host: host)
        case (_, .agent):
            throw ProtocolError(.forbidden, "an agent may not call '\(op)'")
        case (.hostsList, _): data = try await listHosts(request)
        case (.hostsShow, _): data = try await showHost(request)
        case (.actionsList, _): data = try await listActions(request)
        case (.clusterStats, _): data = try await clusterStats(request)
        case (.jobsRun, _): data = try await runJob(request)
        case (.jobsRunMany, _): data = try await runJobs(request)
        case (.jobsList, _): data = try await listJobs(request)
        case (.jobsShow, _): data = try await showJob(request, watch: false)
        case (.jobsWatch, _): data = try await showJob(request, watch: true)
        case (.jobsCancel, _): data = try await cancelJob(request)
        case (.jobsCancelMany, _): data = try await cancelJobs(request)
        case (.jobsStdin, _): data = try await sendStdin(request)
        case (.jobsRunning, _):
            try await listRunningJobs(request)
            return nil
        case (.timersList, _):
            try await listTimers(request)
            return nil
        case (.timersAdd, _):
            try await addTimer(request)
            return nil
        case (.timersRemove, _):
            try await removeTimer(request)
            return nil
        case (.jobOutput, _), (.jobFinished, _), (.jobStart, _), (.jobCancel, _), (.jobStdin, _),
            (.timerAdd, _), (.timerRemove, _), (.timerList, _):
            throw ProtocolError(.forbidden, "'\(op)' is answered by agents, not by the central side")
        }
        return Envelope.reply(to: request.id, data: data)
    }

    /// Answers with an error, and closes the connection after it when `close` is true.
    func refuse(_ context: EventContext, re: String?, _ error: ProtocolError, close: Bool) async throws {
        let reply = OutgoingMessage.text(Envelope.reply(to: re, error: error))
        if close {
            try await context.api.closeCurrentClient(lastMessage: reply)
        } else {
            try await context.api.sendToCurrentClient(reply)
        }
    }

    /// Sends an event to the connections in `groups` (each connection once); a failure is logged, not
    /// thrown, since the state it reports is already stored.
    func push(_ event: EventName, _ data: some Encodable & Sendable, to groups: [String], api: ClusterAPI) async {
        await push(event, text: Envelope.event(event, data: data), to: groups, api: api)
    }

    /// Sends the text of an event `event` to the connections in `groups`, as `push(_:_:to:api:)` does.
    func push(_ event: EventName, text: String, to groups: [String], api: ClusterAPI) async {
        do {
            try await api.sendToGroup(groups, .text(text))
        } catch {
            logger.warning("could not push an event", metadata: ["event": "\(event.rawValue)", "error": "\(error)"])
        }
    }
}
