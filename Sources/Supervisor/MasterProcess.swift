import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// The life of the master process of `datacentered start`, once its configuration is loaded:
/// take the run directory, start the children, serve the control socket and the metrics endpoint,
/// and act on signals until told to stop.
///
/// Signals: SIGTERM and SIGINT stop the cluster; SIGUSR1 reloads (re-reads the configuration and
/// replaces the workers one at a time); SIGHUP reopens the log file (daemon). Under systemd
/// (`Type=notify`) it reports ready, reloading and stopping on `$NOTIFY_SOCKET`.
public struct MasterProcess: Sendable {
    public var configuration: SupervisorConfiguration
    /// How the configuration was read, to read it again on reload.
    public var loader: ConfigurationLoader
    /// The `datacentered` binary.
    public var executable: String
    public var output: OutputLog
    /// The registry behind swift-metrics (bootstrapped by the caller) and the `/metrics` endpoint.
    public var exposition: StatisticsExposition

    public init(configuration: SupervisorConfiguration, loader: ConfigurationLoader, executable: String, output: OutputLog, exposition: StatisticsExposition) {
        self.configuration = configuration
        self.loader = loader
        self.executable = executable
        self.output = output
        self.exposition = exposition
    }

    /// - Parameter whenStarted: called once every child has started.
    public func run(logger: Logger, whenStarted: @Sendable () -> Void = {}) async throws {
        let notifier = SystemdNotifier.fromEnvironment()
        let notify: @Sendable (SystemdNotifier.State) -> Bool = { state in
            do { return try notifier?.notify(state) ?? false } catch {
                logger.warning("\(error)")
                return false
            }
        }
        let runDirectory = RunDirectory(path: configuration.supervisor.runDirectory)
        let lock = try runDirectory.acquire()
        defer {
            runDirectory.clear()
            close(lock)
        }
        // Trap signals before any child exists: children get the default dispositions back.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sigusr1, .sighup)
        let group = MultiThreadedEventLoopGroup.singleton
        let supervisor = Supervisor(
            configuration: configuration, executable: executable, version: SupervisorVersion.current, output: output, group: group, logger: logger
        )
        let loader = self.loader
        let reload: @Sendable () async -> ControlResponse = {
            // Not announced during the start, a stop or another reload: only one READY=1 ends it.
            let announced = notify(.reloading)
            defer { if announced { _ = notify(.ready) } }
            do {
                let configuration = try await loader.load()
                return ControlResponse(ok: true, message: try await supervisor.reload(with: configuration))
            } catch {
                logger.error("reload refused: \(error)")
                return ControlResponse(ok: false, message: "reload refused, the cluster is unchanged: \(error)")
            }
        }
        let control = try await ControlServer.start(path: runDirectory.controlSocket, group: group) { request in
            switch request.command {
            case "status": return ControlResponse(ok: true, status: await supervisor.status())
            case "connections": return ControlResponse(ok: true, connections: await supervisor.connections())
            case "reload": return await reload()
            case "stop":
                kill(getpid(), SIGTERM)
                return ControlResponse(ok: true, message: "stopping")
            default: return ControlResponse(ok: false, message: "unknown command '\(request.command)': status, connections, reload, stop")
            }
        }
        var metrics: MetricsHTTPServer?
        if let address = HostPort(configuration.supervisor.metricsListen) {
            let exposition = self.exposition
            metrics = try await MetricsHTTPServer.start(
                host: address.host, port: address.port,
                routes: [
                    "/metrics": {
                        for (name, statistics) in await supervisor.childStatistics() {
                            exposition.record(statistics, labels: [("process", name)])
                        }
                        return ("text/plain; version=0.0.4", exposition.render())
                    }
                ],
                group: group
            )
            logger.notice("metrics on http://\(address)/metrics")
        }
        logger.notice("supervisor pid \(getpid()), run directory \(runDirectory.path)")
        do {
            try await supervisor.start()
        } catch {
            logger.error("start failed: \(error)")
            await supervisor.stop()
            await control.close()
            await metrics?.close()
            throw error
        }
        whenStarted()
        _ = notify(.ready)
        for await signal in signals {
            if signal == .sigterm || signal == .sigint {
                logger.notice("stopping (\(signal))")
                _ = notify(.stopping)
                break
            } else if signal == .sigusr1 {
                Task { _ = await reload() }
            } else if signal == .sighup, output.filePath != nil {
                do {
                    try output.reopen()
                    logger.notice("log file reopened")
                } catch {
                    logger.error("cannot reopen the log file: \(error)")
                }
            }
        }
        await supervisor.stop()
        await control.close()
        await metrics?.close()
    }
}
