import DataCenterProtocol
import NIOConcurrencyHelpers

/// Serves ``OperatorClient/withSession(_:)`` on the connections of a ``DataCenterClient``: authenticates
/// with the operator or service token, runs the body once, on the first authenticated connection, and
/// routes the job events of that connection to the body's runs. A connection that ends before the
/// body does ends it: the client would reconnect, but the body does not start over.
final class OperatorConnectionHandler<Result: Sendable>: DataCenterSessionHandler {
    private let token: String
    private let body: @Sendable (OperatorSession) async throws -> Result
    private let router = JobEventRouter()
    private let outcome = NIOLockedValueBox<Swift.Result<Result, any Error>?>(nil)
    private let connections = NIOLockedValueBox(0)
    private let started = NIOLockedValueBox(false)
    private let finished: @Sendable () -> Void

    /// - Parameter finished: called once the body has an outcome (to stop the client).
    init(token: String, finished: @escaping @Sendable () -> Void, body: @escaping @Sendable (OperatorSession) async throws -> Result) {
        self.token = token
        self.finished = finished
        self.body = body
    }

    /// The body's result; throws what stopped it. Nil while it has not ended.
    func result() throws -> Result? {
        try outcome.withLockedValue { $0 }?.get()
    }

    /// True once a connection is authenticated and the body has started.
    var hasStarted: Bool { started.withLockedValue { $0 } }

    func authentication() async throws -> (OperationName, any Encodable & Sendable) {
        if connections.withLockedValue({ $0 += 1; return $0 }) > 1 { end(.failure(OperatorClient.ConnectionEnded())) }
        return (.authOperator, OperatorAuthRequest(token: token))
    }

    /// The body does not run on a later connection: the refusal (`auth_failed`) is its outcome.
    func authenticationFailed(_ error: any Error) async {
        end(.failure(error))
    }

    func sessionOpened(_ session: DataCenterSession, authenticated reply: InboundMessage) async {
        guard connections.withLockedValue({ $0 }) == 1 else { return }
        started.withLockedValue { $0 = true }
        defer { router.end() }
        do {
            let identity = try reply.payload(OperatorAuthReply.self)
            end(.success(try await body(OperatorSession(identity: identity, connection: session, router: router))))
        } catch {
            end(.failure(error))
        }
    }

    func handleRequest(_ request: InboundMessage, operation: String, session: DataCenterSession) async throws(ProtocolError)
        -> any Encodable & Sendable
    {
        throw ProtocolError(.unknownOperation, "an operator's client answers no requests")
    }

    func handleEvent(_ event: InboundMessage, name: String, session: DataCenterSession) async {
        router.route(event)
    }

    private func end(_ result: Swift.Result<Result, any Error>) {
        let first = outcome.withLockedValue { outcome in
            defer { outcome = outcome ?? result }
            return outcome == nil
        }
        if first { finished() }
    }
}
