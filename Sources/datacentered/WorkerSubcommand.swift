import ArgumentParser
import ClusterProbe
import DataCenter
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
        case datacenter
    }

    @Option(help: "The event handler to run: \(HandlerName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var handler = HandlerName.echo

    @Option(help: "The worker's name in gateway logs (sent as name:pid).")
    var name = "worker"

    @Option(help: "Milliseconds a cluster API query waits for each gateway's answer.")
    var queryTimeout = 5000

    @Option(help: "Largest gateway <-> worker frame in bytes; the same as the gateways'. A reply or query larger than this fails that call.")
    var maxLinkFrameSize = GatewayFrameDecoder.defaultMaximumFrameLength

    @Option(help: "Bytes of Channel events that may wait for the handler; past that new ones are dropped and counted.")
    var maxChannelEventBacklog = 16 << 20

    @Option(help: "Client events the handler may run at once, each of a different client (one client's stay in order); 1 runs one at a time. Default: \(DataCenterHandler.concurrentEvents) for the datacenter handler, 1 for the others.")
    var maxConcurrentEvents: Int?

    @Option(help: "Seconds between two log lines of the worker's counters; 0 logs none.")
    var statsInterval = 0.0

    @OptionGroup(title: "Datacenter handler") var dataCenter: DataCenterOptions
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var secret: SecretOptions
    @OptionGroup var keepalive: LinkKeepaliveOptions
    @OptionGroup var linkTLS: LinkTLSClientOptions
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
        configuration.maxChannelEventBacklogBytes = maxChannelEventBacklog
        configuration.linkTLSTrustRootsPath = linkTLS.linkTLSCA
        configuration.maxConcurrentEvents = maxConcurrentEvents ?? (handler == .datacenter ? DataCenterHandler.concurrentEvents : 1)
        try configuration.validate()

        let memcached = try registry.makeClient()
        let directory = GatewayRegistry(client: memcached, prefix: registry.keyPrefix)
        let globalData = GlobalData(client: memcached, prefix: registry.keyPrefix)
        let eventHandler: any EventHandler
        switch handler {
        case .echo: eventHandler = EchoBroadcastHandler()
        case .probe: eventHandler = ClusterProbeHandler()
        case .datacenter: eventHandler = DataCenterHandler(configuration: dataCenter.configuration, gateways: directory, logger: logger)
        }
        let worker = BusinessWorker(
            configuration: configuration,
            handler: eventHandler,
            directory: directory,
            globalData: globalData,
            logger: logger
        )
        logger.notice("worker starting with the \(handler.rawValue) handler")
        let hostMetrics = handler == .datacenter ? HostMetrics(globalData: globalData) : nil
        let endpoint = try await metrics.serve(role: "worker", statistics: { worker.statistics }, eventLoops: worker.eventLoops, appended: {
            guard let hostMetrics else { return "" }
            do {
                return try await hostMetrics.render()
            } catch {
                logger.warning("host metrics unavailable: \(error)")
                return ""
            }
        })
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
