import DataCenterProtocol
import Logging

/// How a service (or an operator's tool) uses the DataCenter: connects to one of the gateways with
/// an operator or service token and runs its work on that connection, with typed calls
/// (``OperatorSession``):
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
    private let logger: Logger

    /// - Parameters:
    ///   - endpoints: the gateways, tried in turn until one accepts the token.
    ///   - token: an operator or service token (never logged).
    ///   - connectTimeout: how long ``withSession(_:)`` tries before it gives up with ``NotAuthenticated``.
    public init(
        endpoints: [GatewayEndpoint], token: String, connector: WebSocketConnector,
        configuration: DataCenterClient.Configuration = OperatorClient.defaultConfiguration, connectTimeout: Duration = .seconds(10), logger: Logger
    ) {
        self.endpoints = endpoints
        self.token = token
        self.connector = connector
        self.configuration = configuration
        self.connectTimeout = connectTimeout
        self.logger = logger
    }

    /// Short backoffs: a person or a script is waiting.
    public static var defaultConfiguration: DataCenterClient.Configuration {
        var configuration = DataCenterClient.Configuration()
        configuration.backoffInitial = .milliseconds(200)
        configuration.backoffMaximum = .seconds(1)
        return configuration
    }

    /// Connects, authenticates, runs `body` on the connection and closes it.
    /// - Throws: what `body` throws; the refusal of the token (`ProtocolError` `auth_failed`);
    ///   ``NotAuthenticated`` when no gateway accepted the token within the connect timeout; ``ConnectionEnded`` when the connection ended before `body` did (its calls
    ///   then throw ``DataCenterSession/Closed`` and it does not start over).
    public func withSession<Result: Sendable>(_ body: @escaping @Sendable (OperatorSession) async throws -> Result) async throws -> Result {
        let (stop, stopped) = AsyncStream.makeStream(of: Void.self)
        let handler = OperatorConnectionHandler(token: token, finished: { stopped.yield() }, body: body)
        let client = DataCenterClient(endpoints: endpoints, connector: connector, configuration: configuration, logger: logger)
        let running = Task { await client.run(handler) }
        let connectTimeout = self.connectTimeout
        let timeout = Task {
            try await Task.sleep(for: connectTimeout)
            if !handler.hasStarted { stopped.yield() }
        }
        for await _ in stop { break }
        timeout.cancel()
        // Not awaited: a request the client still waits on may only notice the cancellation at its own timeout.
        running.cancel()
        guard let result = try handler.result() else {
            throw NotAuthenticated(
                description: "not authenticated by a gateway within \(connectTimeout) (unreachable, or the token was refused: see the log): "
                    + endpoints.map(\.description).joined(separator: ", "))
        }
        return result
    }

    /// No gateway accepted the token in time.
    public struct NotAuthenticated: Error, CustomStringConvertible {
        public let description: String
    }

    /// The first connection ended before the work did: authentication was refused (the log says
    /// why) or the connection was lost, after which the last request may or may not have taken effect.
    public struct ConnectionEnded: Error, CustomStringConvertible {
        public init() {}

        public var description: String {
            "the connection to the gateway ended before the command did (the log above says why; a refused token is auth_failed)"
        }
    }
}
