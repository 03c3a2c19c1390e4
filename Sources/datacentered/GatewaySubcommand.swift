import ArgumentParser
import Gateway
import Logging
import NIOCore
import Registry
import ServiceLifecycle
import Supervisor
import Wire

/// `datacentered gateway`: holds client WebSocket connections and links workers.
struct GatewaySubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run a gateway process: clients connect here with WebSocket, workers link to its internal port."
    )

    @Option(help: "Public plain WebSocket (ws) address, host:port. Default 0.0.0.0:8282 unless only --listen-tls is given.")
    var listen: String?

    @Option(help: "Public WebSocket over TLS (wss) address, host:port; needs --tls-certificate and --tls-key.")
    var listenTLS: String?

    @Option(help: "PEM file with the wss server certificate, then any intermediate certificates.")
    var tlsCertificate: String?

    @Option(help: "PEM file with the wss private key (unencrypted). Its path and contents are never logged.")
    var tlsKey: String?

    @Option(help: "Internal text port, host:port: newline-delimited messages over plain TCP, no authentication. Off by default; bind an internal address (e.g. 127.0.0.1:2800), never a public one. Lines longer than --max-message-size get an error line and a close.")
    var listenText: String?

    @Flag(help: "Share the public port with other gateway processes (SO_REUSEPORT).")
    var reusePort = false

    @Option(help: "Internal IPv4 address advertised to workers and encoded in client ids.")
    var lanIP = "127.0.0.1"

    @Option(help: "Internal port workers link to.")
    var lanPort = 2900

    @Option(help: "Address the internal listener binds, when it differs from --lan-ip (NAT, containers).")
    var lanBind: String?

    @Option(help: "PEM file with the internal port's certificate (its SAN names --lan-ip), then intermediates: worker links over TLS. Needs --link-tls-key.")
    var linkTLSCertificate: String?

    @Option(help: "PEM file with the internal port's private key (unencrypted). Its path and contents are never logged.")
    var linkTLSKey: String?

    @Option(help: "How a client's events are routed to workers: \(WorkerRouting.allCases.map(\.rawValue).joined(separator: ", ")).")
    var router = WorkerRouting.sticky

    @Option(help: "Event loop threads (default: one per core).")
    var eventLoops: Int?

    @Option(help: "Largest client message in bytes (larger ones close the client with 1009).")
    var maxMessageSize = 1 << 20

    @Option(help: "Largest gateway <-> worker frame in bytes; at least --max-message-size + 65536, and the same on workers.")
    var maxLinkFrameSize = GatewayFrameDecoder.defaultMaximumFrameLength

    @Option(help: "Worker links that may break (or workers die) while holding one client event before it is dropped and its client closed with 1011.")
    var maxEventDeliveryFailures = 3

    @Option(help: "Bytes of events a worker may hold unacknowledged; past that its clients' new events wait at the gateway until it catches up.")
    var maxWorkerBacklog = 64 * 1024 * 1024

    @Option(help: "Seconds a worker link may take to prove the secret key before it is closed.")
    var linkHelloTimeout = 10

    @Option(help: "Links that may wait to prove the secret key at once; more are refused at once and counted.")
    var maxUnauthenticatedLinks = 64

    @Option(help: "Client connections each public listener accepts per second at most (0: no cap); the rest wait in the kernel's backlog.")
    var maxAcceptsPerSecond = 0

    @Option(help: "Seconds a client may take to finish its WebSocket handshake (and TLS handshake) before it is closed.")
    var handshakeTimeout = 10

    @Option(help: "Bytes a client may have waiting to be sent before new messages for it are dropped or it is closed.")
    var clientSendBuffer = 1_024_000

    @Option(help: "When a client's send buffer is full: close (the client, with 1013 \"send buffer full\", so it reconnects and catches up) or drop (the message, counted).")
    var onSendBufferFull = SendBufferFullPolicy.close

    @Option(help: "Heartbeat period in seconds (GatewayWorker's pingInterval); 0 disables the heartbeat.")
    var pingInterval: Double = 0

    @Option(help: "Disconnect a client that sends nothing for this many ping intervals (pingNotResponseLimit); 0 never does.")
    var pingNotResponseLimit = 0

    @Option(help: "Text message sent to every client every ping interval (pingData); empty sends none and only polices silence.")
    var pingData = ""

    @Option(help: "Seconds between two log lines of the gateway's counters; 0 logs none.")
    var statsInterval: Double = 0

    @OptionGroup var dashboard: DashboardOptions
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var secret: SecretOptions
    @OptionGroup var keepalive: LinkKeepaliveOptions
    @OptionGroup var log: LogOptions
    @OptionGroup var metrics: MetricsOptions

    func run() async throws {
        let logger = log.bootstrap(role: "gateway")
        var configuration = GatewayConfiguration()
        try configureListeners(&configuration)
        configuration.reusePort = reusePort
        configuration.routing = router
        configuration.lanIP = lanIP
        configuration.lanPort = lanPort
        configuration.lanBindHost = lanBind
        switch (linkTLSCertificate, linkTLSKey) {
        case (nil, nil): break
        case (let certificate?, let key?): configuration.linkTLS = LinkTLSCertificate(certificatePath: certificate, keyPath: key)
        default: throw ValidationError("--link-tls-certificate and --link-tls-key go together")
        }
        configuration.secretKey = secret.resolvedSecretKey
        configuration.maxMessageSize = maxMessageSize
        configuration.maxWorkerBacklogBytes = maxWorkerBacklog
        configuration.maxLinkFrameSize = maxLinkFrameSize
        configuration.maxEventDeliveryFailures = maxEventDeliveryFailures
        configuration.linkHelloTimeout = .seconds(Int64(linkHelloTimeout))
        configuration.maxUnauthenticatedLinks = maxUnauthenticatedLinks
        configuration.linkKeepalive = try keepalive.policy
        configuration.handshakeTimeout = .seconds(Int64(handshakeTimeout))
        configuration.maxAcceptsPerSecond = maxAcceptsPerSecond
        configuration.clientSendBufferSize = clientSendBuffer
        configuration.onSendBufferFull = onSendBufferFull
        configuration.pingInterval = try Self.duration(pingInterval, option: "--ping-interval")
        configuration.pingNotResponseLimit = pingNotResponseLimit
        configuration.pingData = pingData
        let statistics = try Self.duration(statsInterval, option: "--stats-interval")
        configuration.statisticsInterval = statistics > .zero ? statistics : nil
        if let eventLoops { configuration.eventLoopCount = eventLoops }
        configuration.staticSite = try dashboard.site()
        if let listenText {
            var textPort = TextPortConfiguration()
            (textPort.host, textPort.port) = try HostPort.parse(listenText, option: "--listen-text")
            textPort.maxLineLength = maxMessageSize
            configuration.textPort = textPort
        }

        try configuration.validate()
        let memcached = try registry.makeClient()
        let server = GatewayServer(configuration: configuration, logger: logger)
        let listening = try await server.start()
        let bound = [listening.publicAddress.map { "ws://\($0)" }, listening.secureAddress.map { "wss://\($0)" }].compactMap { $0 }
        logger.notice("gateway ready: \(bound.joined(separator: " and ")), workers link to \(listening.lanAddress)")
        if configuration.staticSite != nil {
            let pages = [("http", listening.publicAddress), ("https", listening.secureAddress)].compactMap { scheme, address in
                address.map { "\(scheme)://\(Self.browsable($0)):\($0.port ?? 0)/" }
            }
            logger.notice("dashboard at \(pages.joined(separator: " and "))")
        }
        if let textAddress = listening.textAddress { logger.notice("text port listening on \(textAddress)") }
        let gateway = "\(listening.lanAddress)"
        let endpoint = try await metrics.serve(role: "gateway", statistics: { server.statistics }, eventLoops: server.eventLoops) {
            await server.clientSummaries().map {
                ConnectionInfo(
                    clientID: $0.clientID, remoteAddress: $0.remoteAddress, gateway: gateway, uid: $0.uid, groups: $0.groups, idleSeconds: $0.idleSeconds
                )
            }
        }

        let registrar = GatewayRegistrar(
            registry: GatewayRegistry(client: memcached, prefix: registry.keyPrefix),
            address: listening.lanAddress,
            logger: logger,
            onFailure: { server.recordRegistryError() }
        )
        let registration = Task { await registrar.run() }
        let services = ServiceGroup(
            configuration: .init(services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        // Under systemd (Type=notify): listening, so units ordered after this one may start.
        do { try SystemdNotifier.fromEnvironment()?.notify(.ready) } catch { logger.warning("\(error)") }
        try await services.run()
        registration.cancel()
        await registration.value
        await endpoint?.close()
        await memcached.shutdown()
        logger.notice("gateway stopped")
    }

    /// ws on --listen (or its default when no listener is named), wss on --listen-tls.
    private func configureListeners(_ configuration: inout GatewayConfiguration) throws {
        configuration.servesPlainWebSocket = listen != nil || listenTLS == nil
        (configuration.publicHost, configuration.publicPort) = try HostPort.parse(listen ?? "0.0.0.0:8282", option: "--listen")
        guard let listenTLS else {
            guard tlsCertificate == nil, tlsKey == nil else {
                throw ValidationError("--tls-certificate and --tls-key need --listen-tls")
            }
            return
        }
        guard let tlsCertificate, let tlsKey else {
            throw ValidationError("--listen-tls needs --tls-certificate and --tls-key")
        }
        let (host, port) = try HostPort.parse(listenTLS, option: "--listen-tls")
        configuration.secureWebSocket = SecureWebSocketListener(host: host, port: port, certificatePath: tlsCertificate, keyPath: tlsKey)
    }

    /// Where a browser on this machine reaches a listener: a wildcard bind is reached on loopback.
    private static func browsable(_ address: SocketAddress) -> String {
        switch address.ipAddress {
        case "0.0.0.0", nil: return "127.0.0.1"
        case "::": return "[::1]"
        case let ip? where ip.contains(":"): return "[\(ip)]"
        case let ip?: return ip
        }
    }

    private static func duration(_ seconds: Double, option: String) throws -> TimeAmount {
        guard seconds >= 0, seconds.isFinite else { throw ValidationError("\(option) must be a number of seconds, 0 or more") }
        return .nanoseconds(Int64(seconds * 1_000_000_000))
    }
}

extension WorkerRouting: ExpressibleByArgument {}
extension SendBufferFullPolicy: ExpressibleByArgument {}
