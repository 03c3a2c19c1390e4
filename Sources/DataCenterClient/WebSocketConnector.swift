import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// An open WebSocket to a gateway, as an async channel of (aggregated) frames.
public typealias WebSocketChannel = NIOAsyncChannel<WebSocketFrame, WebSocketFrame>

/// Opens WebSocket connections (NIOWebSocket's client upgrader, NIOSSL with certificate verification
/// for wss), the way ClusterTesting's test client does, but handing back an async channel.
public struct WebSocketConnector: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case notUpgraded(GatewayEndpoint)
        case plainWebSocketNotAllowed(GatewayEndpoint)

        public var description: String {
            switch self {
            case .notUpgraded(let endpoint): return "\(endpoint) did not upgrade to WebSocket"
            case .plainWebSocketNotAllowed(let endpoint): return "\(endpoint) is plain ws:// and plain WebSocket is not allowed"
            }
        }
    }

    private let sslContext: NIOSSLContext
    private let allowPlainWebSocket: Bool
    private let connectTimeout: TimeAmount
    private let maximumMessageSize: Int
    private let group: any EventLoopGroup

    /// - Parameters:
    ///   - tls: the client TLS configuration (its trust roots verify the gateways' certificates).
    ///   - allowPlainWebSocket: unless true, a `ws://` endpoint is refused before anything is sent.
    public init(
        tls: TLSConfiguration = .makeClientConfiguration(),
        allowPlainWebSocket: Bool = false,
        connectTimeout: TimeAmount = .seconds(10),
        maximumMessageSize: Int = 16 << 20,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.sslContext = try NIOSSLContext(configuration: tls)
        self.allowPlainWebSocket = allowPlainWebSocket
        self.connectTimeout = connectTimeout
        self.maximumMessageSize = maximumMessageSize
        self.group = group
    }

    /// Connects, upgrades and returns the channel; fragmented messages arrive as one frame.
    public func connect(to endpoint: GatewayEndpoint) async throws -> WebSocketChannel {
        guard endpoint.usesTLS || allowPlainWebSocket else { throw Failure.plainWebSocketNotAllowed(endpoint) }
        let sslContext = endpoint.usesTLS ? self.sslContext : nil
        let maximumMessageSize = self.maximumMessageSize
        let upgrade = try await ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configureUpgrade(
                        of: channel, host: endpoint.host, hostHeader: endpoint.hostHeader, path: endpoint.path,
                        sslContext: sslContext, maximumFrameSize: maximumMessageSize
                    ) { channel in
                        try channel.pipeline.syncOperations.addHandler(
                            NIOWebSocketFrameAggregator(
                                minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16, maxAccumulatedFrameSize: maximumMessageSize
                            )
                        )
                        return try WebSocketChannel(wrappingChannelSynchronously: channel)
                    }
                }
            }
        guard let channel = try await upgrade.get() else { throw Failure.notUpgraded(endpoint) }
        return channel
    }

    /// Sets up a new client channel for a WebSocket: TLS when `sslContext` is given (SNI and the name
    /// verified are `host`, or for an IP literal the address itself), then the HTTP upgrade request.
    /// Call it in the bootstrap's channel initializer, on the channel's event loop.
    /// - Parameters:
    ///   - upgraded: sets up the pipeline once upgraded (it runs on the event loop) and makes the result.
    /// - Returns: the result of `upgraded`, or nil when the server answered without upgrading (the
    ///   channel is then closed).
    public static func configureUpgrade<Upgraded: Sendable>(
        of channel: any Channel,
        host: String,
        hostHeader: String,
        path: String,
        headers: [(String, String)] = [],
        sslContext: NIOSSLContext?,
        maximumFrameSize: Int,
        upgraded: @escaping @Sendable (any Channel) throws -> Upgraded
    ) throws -> EventLoopFuture<Upgraded?> {
        if let sslContext {
            let serverHostname = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
        }
        let upgrader = NIOTypedWebSocketClientUpgrader<Upgraded?>(
            maxFrameSize: maximumFrameSize,
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeCompletedFuture { try upgraded(channel) } }
        )
        var requestHeaders = HTTPHeaders([("Host", hostHeader)])
        for (name, value) in headers { requestHeaders.add(name: name, value: value) }
        let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgraded?>(
            upgradeRequestHead: HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: requestHeaders),
            upgraders: [upgrader],
            notUpgradingCompletionHandler: { channel in
                channel.close(promise: nil)
                return channel.eventLoop.makeSucceededFuture(nil)
            }
        )
        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: .init(upgradeConfiguration: configuration))
    }
}
