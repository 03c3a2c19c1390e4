#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import ServiceLifecycle
import Wire

/// A gateway process's network side: the public WebSocket listener for clients and the internal
/// listener for worker links, on one event-loop group.
///
/// ``start()`` binds both; ``run()`` (as a `Service`) waits for graceful shutdown, then says goodbye
/// to clients (close 1001), closes the links and stops the loops.
public final class GatewayServer: Service {
    /// Where the listeners ended up (ports chosen by the system when configured as 0).
    public struct Listening: Sendable {
        public var publicAddress: SocketAddress
        public var lanAddress: GatewayAddress
        /// The internal text port, when configured.
        public var textAddress: SocketAddress?
    }

    public let configuration: GatewayConfiguration
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let directory = ClientDirectory()
    private let links = WorkerLinkTable()
    private let listeners = NIOLockedValueBox<[Channel]>([])

    public init(configuration: GatewayConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopCount))
    }

    /// Binds the internal listener, then the public one.
    public func start() async throws -> Listening {
        let configuredLan = try configuration.lanAddress()
        let lanChannel = try await bindLanListener()
        guard let lanPort = lanChannel.localAddress?.port.flatMap({ UInt16(exactly: $0) }) else {
            throw GatewayConfigurationError.invalidLanPort(configuration.lanPort)
        }
        let lanAddress = GatewayAddress(ip: configuredLan.ip, port: lanPort)
        let publicChannel = try await bindPublicListener(lanAddress: lanAddress)
        var textChannel: Channel?
        if let textPort = configuration.textPort { textChannel = try await bindTextListener(textPort, lanAddress: lanAddress) }
        listeners.withLockedValue { $0 = [publicChannel, lanChannel] + (textChannel.map { [$0] } ?? []) }
        return Listening(publicAddress: publicChannel.localAddress!, lanAddress: lanAddress, textAddress: textChannel?.localAddress)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }

    /// Number of connected clients and of linked workers.
    public var connectionCounts: (clients: Int, workerLinks: Int) {
        (directory.count, links.count)
    }

    private func stop() async {
        let listeners = self.listeners.withLockedValue { $0 }
        for listener in listeners { try? await listener.close() }
        for (loop, connections) in directory.connectionsByEventLoop() {
            try? await loop.submit {
                for connection in connections { connection.close(code: .goingAway) }
            }.get()
        }
        try? await group.shutdownGracefully()
    }

    private func bindLanListener() async throws -> Channel {
        let configuration = self.configuration
        let commands = WorkerCommandExecutor(directory: directory, logger: logger)
        let links = self.links
        let logger = self.logger
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteToMessageHandler(GatewayFrameDecoder(maximumFrameLength: configuration.maxLinkFrameSize)))
                    try sync.addHandler(MessageToByteHandler(GatewayFrameEncoder(maximumFrameLength: configuration.maxLinkFrameSize)))
                    try sync.addHandler(
                        WorkerLinkHandler(
                            secretKey: configuration.secretKey,
                            helloTimeout: configuration.linkHelloTimeout,
                            links: links,
                            commands: commands,
                            logger: logger
                        )
                    )
                }
            }
            .bind(host: configuration.lanBindHost ?? configuration.lanIP, port: configuration.lanPort)
            .get()
    }

    private func bindPublicListener(lanAddress: GatewayAddress) async throws -> Channel {
        let configuration = self.configuration
        let directory = self.directory
        let links = self.links
        let logger = self.logger
        let events = ClientEventFrames(lanAddress: lanAddress, publicPort: UInt16(clamping: configuration.publicPort))
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: configuration.reusePort ? 1 : 0)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: configuration.maxMessageSize,
                    shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                    upgradePipelineHandler: { channel, request in
                        channel.eventLoop.makeCompletedFuture {
                            let sync = channel.pipeline.syncOperations
                            try sync.addHandler(
                                NIOWebSocketFrameAggregator(
                                    minNonFinalFragmentSize: 1,
                                    maxAccumulatedFrameCount: 4096,
                                    maxAccumulatedFrameSize: configuration.maxMessageSize
                                )
                            )
                            try sync.addHandler(
                                ClientWebSocketHandler(
                                    request: request,
                                    directory: directory,
                                    links: links,
                                    events: events,
                                    maxWaitingEvents: configuration.maxWaitingEvents,
                                    logger: logger
                                )
                            )
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                context.pipeline.syncOperations.removeHandler(name: HTTPHandshakeGuard.name, promise: nil)
                            }
                        )
                    )
                    try sync.addHandler(HTTPHandshakeGuard(timeout: configuration.handshakeTimeout), name: HTTPHandshakeGuard.name)
                }
            }
            .bind(host: configuration.publicHost, port: configuration.publicPort)
            .get()
    }

    /// The internal text port: each TCP connection is a client whose lines are its messages.
    private func bindTextListener(_ textPort: TextPortConfiguration, lanAddress: GatewayAddress) async throws -> Channel {
        let configuration = self.configuration
        let directory = self.directory
        let links = self.links
        let logger = self.logger
        let events = ClientEventFrames(lanAddress: lanAddress, publicPort: UInt16(clamping: textPort.port))
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteToMessageHandler(TextLineDecoder(maximumLineLength: textPort.maxLineLength)))
                    try sync.addHandler(
                        ClientTextLineHandler(
                            directory: directory,
                            links: links,
                            events: events,
                            maxWaitingEvents: configuration.maxWaitingEvents,
                            logger: logger
                        )
                    )
                }
            }
            .bind(host: textPort.host, port: textPort.port)
            .get()
    }
}
