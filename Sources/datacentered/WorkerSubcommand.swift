import ArgumentParser
import ClusterProbe
import EchoDemo
import Logging
import Registry
import ServiceLifecycle
import Supervisor
import Worker

/// `datacentered worker`: runs an event handler on the events of every gateway's clients.
struct WorkerSubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a business-worker process: links to every registered gateway and runs the event handler."
    )

    enum HandlerName: String, ExpressibleByArgument, CaseIterable {
        case echo
        case probe
    }

    @Option(help: "The event handler to run: \(HandlerName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var handler = HandlerName.echo

    @Option(help: "The worker's name in gateway logs (sent as name:pid).")
    var name = "worker"

    @Option(help: "Milliseconds a cluster API query waits for each gateway's answer.")
    var queryTimeout = 5000

    @Option(help: "Largest gateway <-> worker frame in bytes; the same as the gateways'. A reply or query larger than this fails that call.")
    var maxLinkFrameSize = GatewayFrameDecoder.defaultMaximumFrameLength

    @Option(help: "Seconds between two log lines of the worker's counters; 0 logs none.")
    var statsInterval = 0.0

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var secret: SecretOptions
    @OptionGroup var keepalive: LinkKeepaliveOptions
    @OptionGroup var log: LogOptions
    @OptionGroup var metrics: MetricsOptions

    func run() async throws {
        let logger = log.bootstrap(role: "worker")
        var configuration = WorkerConfiguration()
        configuration.name = name
        configuration.secretKey = secret.resolvedSecretKey
        configuration.queryTimeout = .milliseconds(Int64(queryTimeout))
        if statsInterval > 0 { configuration.statisticsInterval = .nanoseconds(Int64(statsInterval * 1e9)) }
        configuration.linkKeepalive = try keepalive.policy
        configuration.maxLinkFrameSize = maxLinkFrameSize
        try configuration.validate()

        let memcached = try registry.makeClient()
        let directory = GatewayRegistry(client: memcached, prefix: registry.keyPrefix)
        let eventHandler: any EventHandler
        switch handler {
        case .echo: eventHandler = EchoBroadcastHandler()
        case .probe: eventHandler = ClusterProbeHandler()
        }
        let worker = BusinessWorker(
            configuration: configuration,
            handler: eventHandler,
            directory: directory,
            globalData: GlobalData(client: memcached, prefix: registry.keyPrefix),
            logger: logger
        )
        logger.notice("worker starting with the \(handler.rawValue) handler")
        let endpoint = try await metrics.serve(role: "worker", statistics: { worker.statistics })
        let services = ServiceGroup(
            configuration: .init(services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await services.run()
        await endpoint?.close()
        await memcached.shutdown()
        logger.notice("worker stopped")
    }
}

extension GatewayRegistry: GatewayDirectory {}
