import Cluster
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Registry
import Wire

/// GatewayWorker's GatewayClient: the cluster API for other services (everything but the
/// current-client calls). It finds gateways through the registry and keeps one authenticated
/// connection per gateway, opened on first use and opened again after it breaks.
public final class GatewayClient: GatewayTransport {
    private let registry: GatewayRegistry
    private let connector: GatewayConnector
    private let group: MultiThreadedEventLoopGroup
    private let queryTimeout: TimeAmount
    private let sessions = NIOLockedValueBox<[GatewayAddress: GatewaySession]>([:])

    /// - Parameters:
    ///   - registry: where gateways register.
    ///   - secretKey: the key gateways expect, at least 16 bytes (a ``LinkKeyError`` otherwise).
    ///   - timeout: bounds connecting and each query.
    public init(registry: GatewayRegistry, secretKey: String, timeout: TimeAmount = .seconds(5), logger: Logger) throws {
        let key = try LinkKey(secret: secretKey)
        self.registry = registry
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.queryTimeout = timeout
        self.connector = GatewayConnector(
            group: group,
            key: key,
            workerKey: nil,
            timeout: timeout,
            maxFrameSize: GatewayFrameDecoder.defaultMaximumFrameLength,
            logger: logger
        )
    }

    /// The cluster API over this client's connections.
    public var api: ClusterAPI {
        ClusterAPI(transport: self, queryTimeout: queryTimeout)
    }

    public func gatewayAddresses() async throws -> [GatewayAddress] {
        try await registry.liveGateways()
    }

    public func send(_ frame: GatewayFrame, to gateway: GatewayAddress) async throws {
        try await session(for: gateway).send(frame)
    }

    public func query(_ frame: GatewayFrame, to gateway: GatewayAddress, timeout: TimeAmount) async throws -> ByteBuffer {
        try await session(for: gateway).query(frame, timeout: timeout)
    }

    /// Flushes what was sent, closes every connection and stops the client's thread.
    public func shutdown() async {
        let open = sessions.withLockedValue { sessions in
            defer { sessions.removeAll() }
            return Array(sessions.values)
        }
        for session in open {
            session.finish()
            try? await session.channel.closeFuture.get()
        }
        try? await group.shutdownGracefully()
    }

    private func session(for gateway: GatewayAddress) async throws -> GatewaySession {
        if let open = sessions.withLockedValue({ $0[gateway] }), open.channel.isActive {
            return open
        }
        let session = try await connector.connect(to: gateway) { _, _ in
            // Gateways send gateway clients nothing but handshake and query answers.
        }
        let kept = sessions.withLockedValue { sessions -> GatewaySession in
            if let raced = sessions[gateway], raced.channel.isActive { return raced }
            sessions[gateway] = session
            return session
        }
        if kept !== session { session.finish() }
        return kept
    }
}
