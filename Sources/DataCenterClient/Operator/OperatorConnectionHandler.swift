import DataCenterProtocol
import NIOConcurrencyHelpers

/// Serves ``OperatorClient/withSession(_:)`` on the connections of a ``DataCenterClient``: authenticates
/// each with the operator or service token, hands it to the session's ``OperatorConnection`` for as
/// long as it lasts, and routes its job events to the session's runs. On every connection after the
/// first it watches again the jobs that runs follow, so their output resumes where it stopped; and it
/// asks for a followed job that has had no news for a while, so that runs of a job that has ended
/// unseen, or that the central side no longer has, end.
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
    private let jobCheckInterval: Duration

    init(token: String, reconnectTimeout: Duration, jobCheckInterval: Duration) {
        self.token = token
        self.jobCheckInterval = jobCheckInterval
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
            // Joins the followed jobs' watchers again and hands their runs what was kept meanwhile.
            await catchUp(router.followedJobs, asking: .jobsWatch, on: session)
        }
        // Cancelled when the connection ends.
        while (try? await Task.sleep(for: jobCheckInterval)) != nil {
            await catchUp(router.silentJobs(for: jobCheckInterval), asking: .jobsShow, on: session)
        }
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

    /// Asks for each of `jobs` with `operation` (`jobs.watch` or `jobs.show`) from the first chunk its
    /// runs have not been given, and hands them the chunks that come (each run drops any it has had)
    /// and the job's final state; a job the central side no longer has ends its runs with `not_found`.
    private func catchUp(_ jobs: [(job: String, fromSeq: Int)], asking operation: OperationName, on session: DataCenterSession) async {
        for (job, fromSeq) in jobs {
            do {
                let snapshot = try await session.request(operation, JobOutputQuery(job: job, fromSeq: fromSeq)).payload(JobDetailReply.self)
                for chunk in snapshot.output { router.deliver(.output(chunk)) }
                if snapshot.job.state.isFinal { router.deliver(.state(snapshot.job)) }
            } catch let error as ProtocolError where error.code == .notFound {
                router.deliver(.missing(job: job))
            } catch {
                // The connection ended again: the next one asks again.
            }
        }
    }
}
