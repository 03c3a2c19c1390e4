import ArgumentParser
import Gateway
import Logging
import Registry
import ServiceLifecycle

/// `datacentered gateway`: holds client WebSocket connections and links workers.
struct GatewaySubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run a gateway process: clients connect here with WebSocket, workers link to its internal port."
    )

    @Option(help: "Public WebSocket address, host:port.")
    var listen = "0.0.0.0:8282"

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

    @Option(help: "Event loop threads (default: one per core).")
    var eventLoops: Int?

    @Option(help: "Largest client message in bytes (larger ones close the client with 1009).")
    var maxMessageSize = 1 << 20

    @Option(help: "Seconds a worker link may take to prove the secret key before it is closed.")
    var linkHelloTimeout = 10

    @Option(help: "Seconds a client may take to finish its WebSocket handshake before it is closed.")
    var handshakeTimeout = 10

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var secret: SecretOptions
    @OptionGroup var log: LogOptions

    func run() async throws {
        let logger = log.bootstrap(role: "gateway")
        var configuration = GatewayConfiguration()
        (configuration.publicHost, configuration.publicPort) = try HostPort.parse(listen, option: "--listen")
        configuration.reusePort = reusePort
        configuration.lanIP = lanIP
        configuration.lanPort = lanPort
        configuration.lanBindHost = lanBind
        configuration.secretKey = secret.resolvedSecretKey
        configuration.maxMessageSize = maxMessageSize
        configuration.linkHelloTimeout = .seconds(Int64(linkHelloTimeout))
        configuration.handshakeTimeout = .seconds(Int64(handshakeTimeout))
        if let eventLoops { configuration.eventLoopCount = eventLoops }
        if let listenText {
            var textPort = TextPortConfiguration()
            (textPort.host, textPort.port) = try HostPort.parse(listenText, option: "--listen-text")
            textPort.maxLineLength = maxMessageSize
            configuration.textPort = textPort
        }

        let memcached = try registry.makeClient()
        let server = GatewayServer(configuration: configuration, logger: logger)
        let listening = try await server.start()
        logger.notice("gateway ready: ws://\(listen) (bound \(listening.publicAddress)), workers link to \(listening.lanAddress)")
        if let textAddress = listening.textAddress { logger.notice("text port listening on \(textAddress)") }

        let registrar = GatewayRegistrar(
            registry: GatewayRegistry(client: memcached, prefix: registry.keyPrefix),
            address: listening.lanAddress,
            logger: logger
        )
        let registration = Task { await registrar.run() }
        let services = ServiceGroup(
            configuration: .init(services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await services.run()
        registration.cancel()
        await registration.value
        await memcached.shutdown()
        logger.notice("gateway stopped")
    }
}
