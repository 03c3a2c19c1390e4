import DataCenterClient
import DataCenterProtocol
import NIOConcurrencyHelpers

/// Runs one command of `datacentered jobs` on a ``DataCenterClient`` connection authenticated with an
/// operator or service token: the command runs once, on the first connection, and its events (job
/// output and states) come through ``events``. A connection that ends before the command does ends it.
final class OperatorCommandSession: DataCenterSessionHandler {
    /// What the command ended with: its exit status, or the error that stopped it.
    private let outcome = NIOLockedValueBox<Result<Int32, any Error>?>(nil)
    private let token: String
    private let command: @Sendable (DataCenterSession, AsyncStream<InboundMessage>) async throws -> Int32
    private let eventStream: AsyncStream<InboundMessage>
    private let eventSink: AsyncStream<InboundMessage>.Continuation
    private let finished: @Sendable () -> Void

    /// - Parameter finished: called once the command has an outcome (to stop the client).
    init(
        token: String, finished: @escaping @Sendable () -> Void,
        command: @escaping @Sendable (DataCenterSession, AsyncStream<InboundMessage>) async throws -> Int32
    ) {
        self.token = token
        self.command = command
        self.finished = finished
        (eventStream, eventSink) = AsyncStream.makeStream(of: InboundMessage.self)
    }

    /// The command's exit status; throws what stopped it. Nil while it has not ended.
    func result() throws -> Int32? {
        try outcome.withLockedValue { $0 }?.get()
    }

    func authentication() async throws -> (OperationName, any Encodable & Sendable) {
        // The client reconnects on its own; a command line command does not start over.
        if connections.withLockedValue({ $0 += 1; return $0 }) > 1 { end(.failure(ConnectionEnded())) }
        return (.authOperator, OperatorAuthRequest(token: token))
    }

    private let connections = NIOLockedValueBox(0)

    private let started = NIOLockedValueBox(false)

    /// True once a connection is authenticated and the command has started.
    var hasStarted: Bool { started.withLockedValue { $0 } }

    func sessionOpened(_ session: DataCenterSession, authenticated reply: InboundMessage) async {
        guard connections.withLockedValue({ $0 }) == 1 else { return }
        started.withLockedValue { $0 = true }
        do {
            end(.success(try await command(session, eventStream)))
        } catch {
            end(.failure(error))
        }
    }

    func handleRequest(_ request: InboundMessage, operation: String, session: DataCenterSession) async throws(ProtocolError)
        -> any Encodable & Sendable
    {
        throw ProtocolError(.unknownOperation, "a command line client answers no requests")
    }

    func handleEvent(_ event: InboundMessage, name: String, session: DataCenterSession) async {
        eventSink.yield(event)
    }

    private func end(_ result: Result<Int32, any Error>) {
        let first = outcome.withLockedValue { outcome in
            defer { outcome = outcome ?? result }
            return outcome == nil
        }
        if first { finished() }
    }

    /// The first connection ended before the command did: authentication was refused (the log says
    /// why) or the connection was lost, after which the command may or may not have taken effect.
    struct ConnectionEnded: Error, CustomStringConvertible {
        var description: String {
            "the connection to the gateway ended before the command did (the log above says why; a refused token is auth_failed)"
        }
    }
}
