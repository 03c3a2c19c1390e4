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
        // SNI and the name checked are the host name; for an IP literal, the address itself.
        let serverHostname = (try? SocketAddress(ipAddress: endpoint.host, port: 0)) == nil ? endpoint.host : nil
        let maximumMessageSize = self.maximumMessageSize
        let upgrade = try await ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                    }
                    let upgrader = NIOTypedWebSocketClientUpgrader<WebSocketChannel?>(
                        maxFrameSize: maximumMessageSize,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(
                                    NIOWebSocketFrameAggregator(
                                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16, maxAccumulatedFrameSize: maximumMessageSize
                                    )
                                )
                                return try WebSocketChannel(wrappingChannelSynchronously: channel)
                            }
                        }
                    )
                    let head = HTTPRequestHead(
                        version: .http1_1, method: .GET, uri: endpoint.path, headers: HTTPHeaders([("Host", endpoint.hostHeader)])
                    )
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<WebSocketChannel?>(
                        upgradeRequestHead: head,
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.close(promise: nil)
                            return channel.eventLoop.makeSucceededFuture(nil)
                        }
                    )
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration)
                    )
                }
            }
        guard let channel = try await upgrade.get() else { throw Failure.notUpgraded(endpoint) }
        return channel
    }
}
