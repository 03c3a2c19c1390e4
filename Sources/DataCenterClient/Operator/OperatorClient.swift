import DataCenterProtocol
import Logging

/// How a service (or an operator's tool) uses the DataCenter: connects to one of the gateways with
/// an operator or service token and runs its work in a session that outlives a lost connection,
/// with typed calls (``OperatorSession``):
///
/// ```swift
/// let client = OperatorClient(endpoints: [try GatewayEndpoint("wss://dc.example:8443/")], token: token,
///                             connector: try WebSocketConnector(), logger: logger)
/// let status = try await client.withSession { dc in
///     let run = try await dc.runJob(host: "node-7", action: "vps.restart", parameters: ["vps": "vps101"])
///     for try await event in run {
///         switch event {
///         case .output(let chunk): print(chunk.data, terminator: "")
///         case .finished(let job): return job.exitCode
///         }
///     }
///     return nil
/// }
/// ```
public struct OperatorClient: Sendable {
    private let endpoints: [GatewayEndpoint]
    private let token: String
    private let connector: WebSocketConnector
    private let configuration: DataCenterClient.Configuration
    private let connectTimeout: Duration
    private let jobCheckInterval: Duration
    private let logger: Logger

    /// - Parameters:
    ///   - endpoints: the gateways, tried in turn until one accepts the token.
    ///   - token: an operator or service token (never logged).
    ///   - connectTimeout: how long ``withSession(_:)`` tries to connect before it gives up with
    ///     ``NotAuthenticated``, and to connect again after a lost connection before the session is over.
    ///   - jobCheckInterval: how long a followed job may go without news before the client asks the
    ///     central side for it (its runs end if it has ended unseen, or with `not_found` if it is gone).
    public init(
        endpoints: [GatewayEndpoint], token: String, connector: WebSocketConnector,
        configuration: DataCenterClient.Configuration = OperatorClient.defaultConfiguration, connectTimeout: Duration = .seconds(10),
        jobCheckInterval: Duration = .seconds(30), logger: Logger
    ) {
        self.endpoints = endpoints
        self.token = token
        self.connector = connector
        self.configuration = configuration
        self.connectTimeout = connectTimeout
        self.jobCheckInterval = jobCheckInterval
        self.logger = logger
    }

    /// Short backoffs: a person or a script is waiting.
    public static var defaultConfiguration: DataCenterClient.Configuration {
        var configuration = DataCenterClient.Configuration()
        configuration.backoffInitial = .milliseconds(200)
        configuration.backoffMaximum = .seconds(1)
        return configuration
    }

    /// Connects, authenticates, runs `body` with the session and closes the connection.
    ///
    /// A connection lost while `body` runs is replaced: the client reconnects (full-jitter backoff,
    /// moving on through the gateways of the list), authenticates again and watches again the jobs its
    /// runs follow. A call in flight at the loss throws ``DataCenterSession/Closed``; calls made while
    /// it reconnects wait for the next connection, up to the connect timeout.
    /// - Throws: what `body` throws (its calls throw ``ConnectionEnded`` once no gateway took the session
    ///   back in time); the refusal of the token (`ProtocolError` `auth_failed`); ``NotAuthenticated``
    ///   when no gateway accepted the token within the connect timeout.
    public func withSession<Result: Sendable>(_ body: @escaping @Sendable (OperatorSession) async throws -> Result) async throws -> Result {
        let handler = OperatorConnectionHandler(token: token, reconnectTimeout: connectTimeout, jobCheckInterval: jobCheckInterval)
        let client = DataCenterClient(endpoints: endpoints, connector: connector, configuration: configuration, logger: logger)
        let running = Task { await client.run(handler) }
        defer {
            handler.connection.end(ConnectionEnded(description: "the session has ended"))
            // Not awaited: a request the client still waits on may only notice the cancellation at its own timeout.
            running.cancel()
        }
        let connectTimeout = self.connectTimeout
        let first = await withTaskGroup(of: OperatorConnectionHandler.FirstConnection?.self) { group in
            group.addTask {
                for await outcome in handler.firstConnection { return outcome }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: connectTimeout)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
        switch first {
        case .opened(let identity)?:
            return try await body(OperatorSession(identity: identity, connection: handler.connection, router: handler.router))
        case .failed(let error)?:
            throw error
        case nil:
            throw NotAuthenticated(
                description: "not authenticated by a gateway within \(connectTimeout) (unreachable, or the token was refused: see the log): "
                    + endpoints.map(\.description).joined(separator: ", "))
        }
    }

    /// No gateway accepted the token in time.
    public struct NotAuthenticated: Error, CustomStringConvertible {
        public let description: String
    }

    /// The session is over: no gateway took it back within the connect timeout after its connection was
    /// lost, or it had ended already.
    public struct ConnectionEnded: Error, CustomStringConvertible {
        public let description: String

        public init() {
            description = "the session ended before the command did"
        }

        init(description: String) {
            self.description = description
        }

        init(after timeout: Duration) {
            description = "the connection to the gateway was lost and no gateway took the session back within \(timeout)"
        }
    }
}
