import ArgumentParser
import Foundation
import Supervisor

/// `datacentered stop`: stops the cluster gracefully and waits until every process is gone.
struct StopSubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop the running cluster: clients closed with 1001, workers finish the event in hand, all within the grace period."
    )

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let (configuration, _) = try await cluster.load(strict: false)
        try await ClusterStopper.stop(configuration)
        print("stopped")
    }
}

enum ClusterStopper {
    /// Asks the supervisor to stop and waits until it is gone (grace period plus a margin).
    static func stop(_ configuration: SupervisorConfiguration) async throws {
        let runDirectory = RunDirectory(path: configuration.supervisor.runDirectory)
        let pid = try runDirectory.runningPID()
        let answer = try await ControlClient.send("stop", runDirectory: runDirectory)
        guard answer.ok else { throw SupervisorError.controlFailed(reason: answer.message ?? "stop refused") }
        let deadline = ContinuousClock.now + .seconds(configuration.supervisor.stopGraceSeconds * 2 + 20)
        while kill(pid, 0) == 0 {
            guard ContinuousClock.now < deadline else {
                throw SupervisorError.controlFailed(reason: "the supervisor (pid \(pid)) is still running")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// `datacentered restart`: stop (when running), then start.
struct RestartSubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Stop the running cluster (if any), then start it again.")

    @OptionGroup var cluster: ClusterOptions

    @Flag(name: [.customShort("d"), .customLong("daemon")], help: "Start in the background.")
    var daemon = false

    func run() async throws {
        let (configuration, _) = try await cluster.load(strict: false)
        do {
            try await ClusterStopper.stop(configuration)
        } catch SupervisorError.notRunning {
        }
        try await ClusterLauncher(cluster: cluster, daemon: daemon, daemonChild: false).run()
    }
}

/// `datacentered reload`: the supervisor re-reads its configuration and replaces the workers one at a time.
struct ReloadSubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Re-read the configuration and replace the workers one at a time; gateways and clients are untouched."
    )

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let (configuration, _) = try await cluster.load(strict: false)
        let answer = try await ControlClient.send("reload", runDirectory: RunDirectory(path: configuration.supervisor.runDirectory), timeout: .seconds(600))
        guard answer.ok else { throw SupervisorError.controlFailed(reason: answer.message ?? "reload refused") }
        print(answer.message ?? "reloaded")
    }
}

/// `datacentered status`: the live table of every process.
struct StatusSubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the running cluster: every process, its memory and counters.")

    @OptionGroup var cluster: ClusterOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        let (configuration, _) = try await cluster.load(strict: false)
        let answer = try await ControlClient.send("status", runDirectory: RunDirectory(path: configuration.supervisor.runDirectory))
        guard answer.ok, let status = answer.status else { throw SupervisorError.controlFailed(reason: answer.message ?? "no status") }
        print(json ? try StatusRendering.json(status) : StatusRendering.table(status))
    }
}

/// `datacentered connections`: every live client of this machine's gateways.
struct ConnectionsSubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "connections", abstract: "List the live client connections of the gateways.")

    @OptionGroup var cluster: ClusterOptions

    @Flag(help: "Print the list as JSON.")
    var json = false

    func run() async throws {
        let (configuration, _) = try await cluster.load(strict: false)
        let answer = try await ControlClient.send("connections", runDirectory: RunDirectory(path: configuration.supervisor.runDirectory))
        guard answer.ok, let connections = answer.connections else { throw SupervisorError.controlFailed(reason: answer.message ?? "no answer") }
        print(json ? try StatusRendering.json(connections) : StatusRendering.table(connections))
    }
}

/// `datacentered supervised-exec`: how the supervisor starts each child (hidden).
struct SupervisedExecSubcommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "supervised-exec", shouldDisplay: false)

    @Option var parent: Int32
    @Option var user: String?
    @Argument(parsing: .postTerminator) var command: [String]

    func run() throws {
        SupervisedExec.exec(parent: parent, user: user, command: command)
    }
}
