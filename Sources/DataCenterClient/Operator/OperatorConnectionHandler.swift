import DataCenterProtocol
import NIOConcurrencyHelpers

/// Serves ``OperatorClient/withSession(_:)`` on the connections of a ``DataCenterClient``: authenticates
/// each with the operator or service token, hands it to the session's ``OperatorConnection`` for as
/// long as it lasts, and routes its job events to the session's runs. On every connection after the
/// first it watches again the jobs that runs follow, so their output resumes where it stopped.
final class OperatorConnectionHandler: DataCenterSessionHandler {
    /// How the first connection went: the body starts on ``opened(_:)``.
    enum FirstConnection: Sendable {
        case opened(OperatorAuthReply)
        case failed(any Error)
    }

    let connection: OperatorConnection
    let router: JobEventRouter
    /// Yields the outcome of the first connection once.
    let firstConnection: AsyncStream<FirstConnection>
    private let token: String
    private let firstOutcome: AsyncStream<FirstConnection>.Continuation
    private let authenticated = NIOLockedValueBox(0)

    init(token: String, reconnectTimeout: Duration) {
        self.token = token
        let router = JobEventRouter()
        self.router = router
        connection = OperatorConnection(reconnectTimeout: reconnectTimeout, onEnd: { router.end() })
        let (stream, continuation) = AsyncStream.makeStream(of: FirstConnection.self)
        firstConnection = stream
        firstOutcome = continuation
    }

    /// True once a connection has been authenticated.
    var hasStarted: Bool { authenticated.withLockedValue { $0 > 0 } }

    func authentication() async throws -> (OperationName, any Encodable & Sendable) {
        (.authOperator, OperatorAuthRequest(token: token))
    }

    /// A refusal of the first connection ends the session at once (a refused token is not retried), and
    /// so does a refusal of the token on a reconnect; a reconnect that broke during the exchange is tried again.
    func authenticationFailed(_ error: any Error) async {
        if !hasStarted {
            firstOutcome.yield(.failed(error))
            firstOutcome.finish()
        } else if error is ProtocolError {
            connection.end(error)
        }
    }

    func sessionOpened(_ session: DataCenterSession, authenticated reply: InboundMessage) async {
        let count = authenticated.withLockedValue { count in
            count += 1
            return count
        }
        connection.attach(session)
        if count == 1 {
            do {
                firstOutcome.yield(.opened(try reply.payload(OperatorAuthReply.self)))
            } catch {
                firstOutcome.yield(.failed(error))
            }
            firstOutcome.finish()
        } else {
            await watchAgain(on: session)
        }
        // Cancelled when the connection ends.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        connection.detach(session)
    }

    func handleRequest(_ request: InboundMessage, operation: String, session: DataCenterSession) async throws(ProtocolError)
        -> any Encodable & Sendable
    {
        throw ProtocolError(.unknownOperation, "an operator's client answers no requests")
    }

    func handleEvent(_ event: InboundMessage, name: String, session: DataCenterSession) async {
        router.route(event)
    }

    /// Joins the followed jobs' watchers on a new connection and hands their runs what the central side
    /// kept from the first chunk they have not been given (each run drops any it has had); a job that
    /// ended meanwhile ends its runs.
    private func watchAgain(on session: DataCenterSession) async {
        for (job, fromSeq) in router.followedJobs {
            let query = JobOutputQuery(job: job, fromSeq: fromSeq)
            guard let snapshot = try? await session.request(.jobsWatch, query).payload(JobDetailReply.self) else {
                // The connection ended again (the next one tries again), or the job is gone.
                continue
            }
            for chunk in snapshot.output { router.deliver(.output(chunk)) }
            if snapshot.job.state.isFinal { router.deliver(.state(snapshot.job)) }
        }
    }
}
