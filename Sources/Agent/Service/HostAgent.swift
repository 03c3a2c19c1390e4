import DataCenterClient
import DataCenterProtocol
import Logging
import NIOSSL
import ServiceLifecycle

/// `datacentered agent`: one per host node. Holds the state directory's lock, connects to the
/// gateways, reports the host on its timers, and runs the jobs and timers the central side sends.
public final class HostAgent: Service {
    private let configuration: AgentConfiguration
    private let lock: InstanceLock
    private let client: DataCenterClient
    private let handler: AgentSessionHandler
    private let logger: Logger

    /// Checks everything the agent needs before it connects: a valid config, a token file only its
    /// owner can read, no other agent on the state directory. Each refusal is a clear error.
    public init(configuration: AgentConfiguration, logger: Logger) throws {
        try configuration.validate()
        let host = configuration.resolvedHost
        guard AgentAuthRequest.isValidHostName(host) else {
            throw AgentConfigurationError.invalid(path: "host", detail: "'\(host)' is not 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        let token = try SecretTokenFile.read(configuration.tokenFile)
        lock = try InstanceLock(directory: configuration.stateDirectory)

        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.caFile { tls.trustRoots = .file(caFile) }
        let connector = try WebSocketConnector(tls: tls, allowPlainWebSocket: configuration.allowPlainWebSocket)
        var connection = DataCenterClient.Configuration()
        connection.pingInterval = .milliseconds(Int64(configuration.connection.pingSeconds * 1000))
        connection.silenceTimeout = .milliseconds(Int64(configuration.connection.silenceTimeoutSeconds * 1000))
        connection.backoffInitial = .milliseconds(Int64(configuration.connection.backoffInitialSeconds * 1000))
        connection.backoffMaximum = .milliseconds(Int64(configuration.connection.backoffMaxSeconds * 1000))
        connection.requestTimeout = .milliseconds(Int64(configuration.connection.requestTimeoutSeconds * 1000))
        client = DataCenterClient(
            endpoints: try configuration.gateways.map(GatewayEndpoint.init), connector: connector, configuration: connection, logger: logger
        )

        let spool = try OutboundSpool(stateDirectory: configuration.stateDirectory, maximumBytes: configuration.jobs.spoolMaxBytes)
        let runner = try JobRunner(
            actions: configuration.actions, limits: configuration.jobs, stateDirectory: configuration.stateDirectory, spool: spool, logger: logger
        )
        handler = AgentSessionHandler(
            host: host, token: token, actions: configuration.actions.map { $0.announcedSpec(limits: configuration.jobs) }, runner: runner,
            timers: AgentTimers(actions: configuration.actions, runner: runner, stateDirectory: configuration.stateDirectory, logger: logger),
            spool: spool, reporter: HostReporter(configuration: configuration, logger: logger), logger: logger
        )
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until a graceful shutdown: running jobs are then stopped (SIGTERM, SIGKILL after the
    /// grace period) and their results kept in the spool for the next run.
    public func run() async throws {
        await handler.runner.recover()
        await handler.timers.restore()
        await handler.reporter.start()
        let backlog = await handler.spool.backlog
        logger.notice(
            "agent for host \(handler.host) starting: \(configuration.actions.count) actions allowed, \(backlog.count) results waiting, gateways \(configuration.gateways.joined(separator: " "))"
        )
        await cancelWhenGracefulShutdown {
            await self.client.run(self.handler)
        }
        await handler.reporter.stop()
        await handler.timers.stopAll()
        await handler.runner.cancelAll()
        logger.notice("agent stopped")
    }
}
