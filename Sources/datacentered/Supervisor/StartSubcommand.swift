import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import Supervisor

/// `datacentered start`: the whole cluster of this machine from one configuration file.
struct StartSubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start the cluster of this machine (memcached, gateways, workers, agent) and keep it running.",
        discussion: """
            Foreground by default: every process logs to this terminal with its role and pid; Ctrl-C stops all. \
            With -d it detaches and logs to the log directory. Signals to the supervisor: TERM or INT stop, \
            USR1 reloads the workers, HUP reopens the log file.
            """
    )

    @OptionGroup var cluster: ClusterOptions

    @Flag(name: [.customShort("d"), .customLong("daemon")], help: "Detach: run in the background, log to the log directory.")
    var daemon = false

    @Flag(help: .hidden)
    var daemonChild = false

    func run() async throws {
        try await ClusterLauncher(cluster: cluster, daemon: daemon, daemonChild: daemonChild).run()
    }
}

/// What `start` and `restart` share.
struct ClusterLauncher {
    var cluster: ClusterOptions
    var daemon: Bool
    var daemonChild: Bool

    func run() async throws {
        let (configuration, loader) = try await cluster.load()
        let logFile = configuration.supervisor.logDirectory + "/datacentered.log"
        let runDirectory = RunDirectory(path: configuration.supervisor.runDirectory)
        if !daemonChild, let pid = try? runDirectory.runningPID() {
            throw SupervisorError.alreadyRunning(pid: pid, pidFile: runDirectory.pidFile)
        }
        // Issued here, never by the daemon child: the token goes to this terminal, not to its log file.
        let tokens = configuration.supervisor.issueTokens && !daemonChild ? try StartTokens.issue(for: configuration) : nil
        let banner = tokens?.banner(for: configuration, configurationPath: cluster.configurationPath)
        if daemon {
            try FileManager.default.createDirectory(atPath: configuration.supervisor.logDirectory, withIntermediateDirectories: true)
            var command = [ExecutablePath.current, "start", "--daemon-child"]
            if let path = cluster.configurationPath { command += ["--config", path] }
            let pid = try await Daemon.launch(command + cluster.keys, logFile: logFile, runDirectory: runDirectory)
            print("datacentered started in the background: pid \(pid), logs in \(logFile), pid file \(runDirectory.pidFile)")
            if let banner { print(banner) }
            return
        }
        if daemonChild {
            try FileManager.default.createDirectory(atPath: configuration.supervisor.logDirectory, withIntermediateDirectories: true)
        }
        let output = try OutputLog(filePath: daemonChild ? logFile : nil)
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { _ in ProcessLogHandler(role: "supervisor", level: level) }
        let exposition = StatisticsExposition()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: exposition.registry))
        let master = MasterProcess(
            configuration: configuration, loader: loader, executable: ExecutablePath.current, output: output, exposition: exposition
        )
        try await master.run(logger: Logger(label: "datacentered.supervisor")) {
            // Unbuffered, in one write, so that it is not held back or split by the children's log lines.
            if let banner { FileHandle.standardOutput.write(Data((banner + "\n").utf8)) }
        }
    }
}

/// This binary's absolute path (children run the same one).
enum ExecutablePath {
    static var current: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
