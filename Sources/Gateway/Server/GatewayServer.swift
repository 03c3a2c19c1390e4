#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ClusterLogging
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import ServiceLifecycle
import WebSocketFrames
import Wire

/// A gateway process's network side: the public listeners for clients (WebSocket, WebSocket over
/// TLS, or both), the optional internal text port, and the internal listener for worker links, on one
/// event-loop group.
///
/// ``start()`` binds them; ``run()`` (as a `Service`) waits for graceful shutdown, then says goodbye
/// to clients (close 1001), closes the links and stops the loops.
public final class GatewayServer: Service {
    /// Where the listeners ended up (the public port is chosen by the system when configured as 0).
    public struct Listening: Sendable {
        /// Where clients connect with plain WebSocket; nil when ws is off.
        public var publicAddress: SocketAddress?
        /// Where clients connect with WebSocket over TLS; nil when wss is off.
        public var secureAddress: SocketAddress?
        /// Where workers link, as advertised to them and encoded in client ids.
        public var lanAddress: GatewayAddress
        /// The internal text port, when configured.
        public var textAddress: SocketAddress?
    }

    public let configuration: GatewayConfiguration
    private let logger: Logger
    let group: MultiThreadedEventLoopGroup
    private let lanes: EventLoopLanes
    private let counters: GatewayCounters
    private let heartbeats: PerEventLoop<ClientHeartbeat>?
    private let clientBuffers: PerEventLoop<NIOLoopBoundBox<ByteBufferPool>>
    let directory: ClientDirectory
    private let links: WorkerLinkTable
    /// What peers can make the gateway log again and again (refused links, broken links) goes through here.
    private let peerLog: RateLimitedLog
    private let listeners = NIOLockedValueBox<[Channel]>([])

    public init(configuration: GatewayConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.links = WorkerLinkTable(routing: configuration.routing)
        self.peerLog = RateLimitedLog(logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopCount))
        let counters = GatewayCounters(group: group)
        let lanes = EventLoopLanes(group)
        let heartbeats = ClientHeartbeat.Policy(
            interval: configuration.pingInterval,
            notResponseLimit: configuration.pingNotResponseLimit,
            pingData: configuration.pingData
        ).map { policy in
            PerEventLoop(group) { ClientHeartbeat(loop: $0, policy: policy, counters: counters.shard(for: $0)) }
        }
        self.group = group
        self.lanes = lanes
        self.counters = counters
        self.heartbeats = heartbeats
        self.clientBuffers = PerEventLoop(group) { NIOLoopBoundBox.makeBoxSendingValue(ByteBufferPool(allocator: ByteBufferAllocator()), eventLoop: $0) }
        self.directory = ClientDirectory(
            lanes: lanes,
            counters: counters,
            heartbeats: heartbeats,
            flushQueues: PerEventLoop(group) { ClientFlushQueue(eventLoop: $0) },
            onSendBufferFull: configuration.onSendBufferFull
        )
    }

    /// Loads the TLS certificate if wss is on, binds the internal listener, then the public ones,
    /// and starts the heartbeat and the statistics log.
    public func start() async throws -> Listening {
        try configuration.validate()
        let key = try LinkKey(secret: configuration.secretKey)
        let lanAddress = try configuration.lanAddress()
        let tls = try configuration.secureWebSocket.map { try TLSContextLoader.load($0) }
        let linkTLS = try configuration.linkTLS.map { try TLSContextLoader.load(certificatePath: $0.certificatePath, keyPath: $0.keyPath) }
        for listener in try await bindLaneListeners(lanAddress: lanAddress, key: key, tls: linkTLS?.context) { keepListener(listener) }
        if let linkTLS { logger.notice("worker links over TLS with certificate \(linkTLS.certificate)") }
        var listening = Listening(lanAddress: lanAddress)
        if configuration.servesPlainWebSocket {
            let channel = try await bindClientListener(
                host: configuration.publicHost,
                port: configuration.publicPort,
                tls: nil,
                lanAddress: listening.lanAddress
            )
            keepListener(channel)
            listening.publicAddress = channel.localAddress
        }
        if let secure = configuration.secureWebSocket, let tls {
            let channel = try await bindClientListener(host: secure.host, port: secure.port, tls: tls.context, lanAddress: listening.lanAddress)
            keepListener(channel)
            listening.secureAddress = channel.localAddress
            logger.notice("serving wss with certificate \(tls.certificate)")
        }
        if let textPort = configuration.textPort {
            let channel = try await bindTextListener(textPort, lanAddress: listening.lanAddress)
            keepListener(channel)
            listening.textAddress = channel.localAddress
        }
        heartbeats?.all.forEach { $0.start() }
        group.next().scheduleRepeatedTask(initialDelay: .seconds(10), delay: .seconds(10)) { _ in self.peerLog.flush() }
        if let interval = configuration.statisticsInterval {
            group.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                self.logger.notice("gateway statistics: \(self.statistics)")
            }
        }
        return listening
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }

    /// This process's counters now.
    public var statistics: GatewayStatistics {
        var statistics = GatewayStatistics()
        statistics.clients = directory.count
        statistics.clientsTotal = counters.total(.clientsAdmitted)
        statistics.messagesIn = counters.total(.messagesIn)
        statistics.messagesOut = counters.total(.messagesOut)
        statistics.sendFailures = counters.total(.sendFailures)
        statistics.sendBufferDrops = counters.total(.sendBufferDrops)
        statistics.sendBufferCloses = counters.total(.sendBufferCloses)
        statistics.heartbeatTimeouts = counters.total(.heartbeatTimeouts)
        statistics.redeliveredEvents = counters.total(.redeliveredEvents)
        statistics.linksRefused = counters.total(.linksRefused)
        statistics.poisonEvents = counters.total(.poisonEvents)
        statistics.channelEventsDropped = counters.total(.channelEventsDropped)
        statistics.workerLinks = links.workerCount
        statistics.registryErrors = counters.registryErrorCount
        statistics.bytesIn = counters.total(.bytesIn)
        statistics.bytesOut = counters.total(.bytesOut)
        statistics.eventsWaitingForWorker = counters.total(.eventsWaitingForWorker)
        statistics.eventsUnacknowledged = links.heldEventCount
        statistics.crossLoopEvents = counters.total(.crossLoopEvents)
        statistics.crossLoopCommands = counters.total(.crossLoopCommands)
        statistics.closesSentByCode = counters.closesByCode(sent: true)
        statistics.closesReceivedByCode = counters.closesByCode(sent: false)
        return statistics
    }

    /// Counts a failed registration or refresh of this gateway in the registry.
    public func recordRegistryError() {
        counters.addRegistryError()
    }

    private func keepListener(_ channel: Channel) {
        listeners.withLockedValue { $0.append(channel) }
    }

    private func stop() async {
        let listeners = self.listeners.withLockedValue { $0 }
        for listener in listeners { try? await listener.close() }
        for (loop, connections) in directory.connectionsByEventLoop({ $0.connections($0.records.keys) }) {
            try? await loop.submit {
                for connection in connections { connection.close(code: .goingAway) }
            }.get()
        }
        try? await group.shutdownGracefully()
    }

    /// Binds one internal listener per event loop (lane), each keeping its links on its own loop, so a
    /// worker linked to every lane gets each client's events, and sends the commands about it, on the
    /// client's own loop. Lane 0 listens on the configured lan port, which is registered and encoded in
    /// client ids; the others on ports the system picks, which the link handshake tells workers.
    private func bindLaneListeners(lanAddress: GatewayAddress, key: LinkKey, tls: NIOSSLContext?) async throws -> [Channel] {
        let commands = WorkerCommandExecutor(directory: directory, links: links, lanAddress: lanAddress, counters: counters, peerLog: peerLog)
        let unauthenticated = UnauthenticatedLinks(limit: configuration.maxUnauthenticatedLinks)
        // Read at each handshake; filled before lane 0 (the only port workers know of) listens.
        let lanePorts = NIOLockedValueBox<[UInt16]>([])
        var listeners: [Channel] = []
        var ports = [lanAddress.port]
        for lane in lanes.loops.indices.dropFirst() {
            let listener = try await bindLanListener(lane: lane, port: 0, lanePorts: lanePorts, key: key, tls: tls, commands: commands, unauthenticated: unauthenticated)
            listeners.append(listener)
            ports.append(UInt16(listener.localAddress?.port ?? 0))
        }
        lanePorts.withLockedValue { $0 = ports }
        let first = try await bindLanListener(
            lane: 0,
            port: configuration.lanPort,
            lanePorts: lanePorts,
            key: key,
            tls: tls,
            commands: commands,
            unauthenticated: unauthenticated
        )
        return [first] + listeners
    }

    private func bindLanListener(
        lane: Int,
        port: Int,
        lanePorts: NIOLockedValueBox<[UInt16]>,
        key: LinkKey,
        tls: NIOSSLContext?,
        commands: WorkerCommandExecutor,
        unauthenticated: UnauthenticatedLinks
    ) async throws -> Channel {
        let configuration = self.configuration
        let links = self.links
        let counters = self.counters
        let logger = self.logger
        let peerLog = self.peerLog
        let loop = lanes.loops[lane]
        return try await ServerBootstrap(group: loop, childGroup: loop)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Events are bounded by the backlog; past it and one more frame, the worker is not reading
            // and answers or Channel events for it stop (counted) rather than pile up.
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(
                    low: configuration.maxWorkerBacklogBytes,
                    high: configuration.maxWorkerBacklogBytes + configuration.maxLinkFrameSize
                )
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try sync.addHandler(PreAuthenticationLimit(), name: PreAuthenticationLimit.name)
                    let linkHandler = WorkerLinkHandler(
                        lane: lane,
                        lanePorts: lanePorts.withLockedValue { $0 },
                        key: key,
                        helloTimeout: configuration.linkHelloTimeout,
                        maxFrameSize: configuration.maxLinkFrameSize,
                        keepalive: configuration.linkKeepalive,
                        maxBacklogBytes: configuration.maxWorkerBacklogBytes,
                        links: links,
                        unauthenticated: unauthenticated,
                        commands: commands,
                        logger: logger,
                        peerLog: peerLog,
                        counters: counters
                    )
                    try sync.addHandler(
                        ByteToMessageHandler(GatewayFrameDecoder(maximumFrameLength: configuration.maxLinkFrameSize, receiver: linkHandler))
                    )
                    try sync.addHandler(GatewayFrameEncoder(maximumFrameLength: configuration.maxLinkFrameSize))
                    try sync.addHandler(linkHandler)
                }
            }
            .bind(host: configuration.lanBindHost ?? configuration.lanIP, port: port)
            .get()
    }

    /// How the clients of the listener on `port` are let in.
    private func clientAdmission(lanAddress: GatewayAddress, port: Int) -> ClientAdmission {
        ClientAdmission(
            directory: directory,
            links: links,
            events: ClientEventFrames(lanAddress: lanAddress, publicPort: UInt16(clamping: port)),
            limits: ClientEventRouter.Limits(
                maxWaitingEvents: configuration.maxWaitingEvents,
                maxWaitingBytes: configuration.maxWaitingBytes,
                maxDeliveryFailures: configuration.maxEventDeliveryFailures,
                maxEventFrameSize: configuration.maxLinkFrameSize
            ),
            peerLog: peerLog,
            loopBuffers: clientBuffers
        )
    }

    /// Binds a client listener on `host:port`, speaking WebSocket over TLS when `tls` is given.
    private func bindClientListener(host: String, port: Int, tls: NIOSSLContext?, lanAddress: GatewayAddress) async throws -> Channel {
        let configuration = self.configuration
        let admission = clientAdmission(lanAddress: lanAddress, port: port)
        let sendBuffer = configuration.clientSendBufferSize
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: configuration.reusePort ? 1 : 0)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if configuration.maxAcceptsPerSecond > 0 {
                        try channel.pipeline.syncOperations.addHandler(AcceptRateLimiter(perSecond: configuration.maxAcceptsPerSecond, now: channel.eventLoop.now))
                    }
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: max(1, sendBuffer / 2), high: sendBuffer))
            .childChannelOption(.recvAllocator, value: ClientWebSocketHandler.receiveBuffers)
            .childChannelInitializer { channel in
                let upgrader = ClientWebSocketUpgrader(configuration: configuration, admission: admission)
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try sync.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                context.pipeline.syncOperations.removeHandler(name: HTTPHandshakeGuard.name, promise: nil)
                            }
                        )
                    )
                    try sync.addHandler(HTTPHandshakeGuard(timeout: configuration.handshakeTimeout, site: configuration.staticSite), name: HTTPHandshakeGuard.name)
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    /// The internal text port: each TCP connection is a client whose lines are its messages.
    private func bindTextListener(_ textPort: TextPortConfiguration, lanAddress: GatewayAddress) async throws -> Channel {
        let admission = clientAdmission(lanAddress: lanAddress, port: textPort.port)
        let sendBuffer = configuration.clientSendBufferSize
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: max(1, sendBuffer / 2), high: sendBuffer))
            // `printf '...' | nc` ends its side after the last line and then reads the replies.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteToMessageHandler(TextLineDecoder(maximumLineLength: textPort.maxLineLength)))
                    try sync.addHandler(
                        ClientTextLineHandler(admission: admission)
                    )
                }
            }
            .bind(host: textPort.host, port: textPort.port)
            .get()
    }
}
