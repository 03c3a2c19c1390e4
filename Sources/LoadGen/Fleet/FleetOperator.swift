import DataCenterClient
import DataCenterProtocol
import Synchronization

/// A measuring connection, recording what arrives in `OperatorObservations`: with an operator token it
/// is a dashboard's (in the operators' group: every `host.changed` and `job.state`); with a service
/// token it gets the events of the jobs it runs.
final class FleetOperator: DataCenterSessionHandler {
    private let token: String
    let observations: OperatorObservations
    private let current = Mutex<DataCenterSession?>(nil)

    init(token: String, observations: OperatorObservations = OperatorObservations()) {
        self.token = token
        self.observations = observations
    }

    /// The open session, if any.
    var session: DataCenterSession? { current.withLock { $0 } }

    func authentication() async throws -> (OperationName, any Encodable & Sendable) {
        (.authOperator, OperatorAuthRequest(token: token))
    }

    func sessionOpened(_ session: DataCenterSession, authenticated reply: InboundMessage) async {
        current.withLock { $0 = session }
        while (try? await Task.sleep(for: .seconds(3600))) != nil {}
        current.withLock { if $0 === session { $0 = nil } }
    }

    func handleRequest(_ request: InboundMessage, operation: String, session: DataCenterSession) async throws(ProtocolError) -> any Encodable & Sendable {
        throw ProtocolError(.unknownOperation, "an operator answers no requests")
    }

    func handleEvent(_ event: InboundMessage, name: String, session: DataCenterSession) async {
        let (now, wallNow) = (ContinuousClock.now, SimulatedHost.nowMicros())
        switch EventName(rawValue: name) {
        case .hostChanged?:
            guard let change = try? event.payload(HostChange.self) else { return }
            observations.hostChanged(
                sentAt: change.bandwidth?.interfaces.first?.rxBytes,
                handledAt: change.lastReportAt.map { Int64($0.date.timeIntervalSince1970 * 1_000_000) }, now: wallNow)
        case .jobOutput?:
            if let chunk = try? event.payload(OutputChunk.self) { observations.jobOutput(chunk.job, at: now) }
        case .jobState?:
            if let reply = try? event.payload(JobReply.self) { observations.jobState(reply.job, at: now) }
        default:
            break
        }
    }
}
