import ArgumentParser
import DataCenterClient
import Foundation
import Logging
import NIOCore
import NIOPosix

/// `fleet-agents`: runs simulated host agents (see `SimulatedAgent`) until a stop file appears, with a
/// status line every second and a JSON summary as the last line.
struct FleetAgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet-agents",
        abstract: "Simulated host agents speaking the real agent protocol (fleet benchmark).",
        discussion: """
            Each agent authenticates with its own host token, sends host-info, cpu, bandwidth and VPS reports \
            on the periods the central side asks for, answers job.start / job.cancel, and reconnects with the \
            real agent's full-jitter backoff. Status lines: 'fleet-agents status {json}'.
            """
    )

    static let maxHoldSeconds = 1800.0

    @Option(help: "Gateways, comma-separated ws://HOST:PORT/ (loopback only); each agent starts at a random one.")
    var url: String = "ws://127.0.0.1:8080/"

    @Option(help: "The host names and tokens, 'name<TAB>token' per line (from `datacentered token issue --names-from`).")
    var tokens: String

    @Option(help: "The first line of --tokens this process simulates (0-based).")
    var first: Int = 0

    @Option(help: "How many agents this process simulates.")
    var agents: Int = 100

    @Option(help: "Spread the first connections over this many seconds (0: all at once).")
    var ramp: Double = 0

    @Option(help: "Stop when this file exists.")
    var stopFile: String?

    @Option(help: "Stop after this many seconds in any case (at most 1800).")
    var maxHold: Double = 600

    @Option(help: "Backoff before the first reconnection attempt, seconds (the real agent's default).")
    var backoffInitial: Double = 0.5

    @Option(help: "Longest backoff between reconnection attempts, seconds (the real agent's default).")
    var backoffMax: Double = 30

    @Option(help: "Timeout of one connect plus WebSocket upgrade, seconds.")
    var connectTimeout: Double = 10

    @Option(help: "Event loop threads.")
    var eventLoops: Int = 1

    func validate() throws {
        guard (1...20_000).contains(agents) else { throw ValidationError("--agents must be 1...20000") }
        let fdLimit = CommonOptions.descriptorLimit()
        guard agents + 64 <= fdLimit else {
            throw ValidationError("--agents \(agents) needs more descriptors than this process may hold (\(fdLimit)); run several processes")
        }
        guard maxHold > 0, maxHold <= Self.maxHoldSeconds else { throw ValidationError("--max-hold must be in (0, 1800]") }
        guard ramp >= 0, ramp <= 600 else { throw ValidationError("--ramp must be in [0, 600]") }
        guard backoffInitial > 0, backoffMax >= backoffInitial else { throw ValidationError("--backoff-initial must be > 0 and <= --backoff-max") }
        guard connectTimeout > 0, connectTimeout <= 120 else { throw ValidationError("--connect-timeout must be in (0, 120]") }
        guard (1...64).contains(eventLoops) else { throw ValidationError("--event-loops must be 1...64") }
        _ = try Self.endpoints(url)
    }

    /// The gateways of a comma-separated `--url`, each checked to be ws:// on loopback.
    static func endpoints(_ url: String) throws -> [GatewayEndpoint] {
        try url.split(separator: ",").map { item in
            let text = String(item)
            _ = try Target(url: text)
            return try GatewayEndpoint(text)
        }
    }

    func run() async throws {
        let credentials = try FleetCredentials(path: tokens, first: first, count: agents)
        let endpoints = try Self.endpoints(url)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoops)
        let connector = try WebSocketConnector(
            allowPlainWebSocket: true, connectTimeout: .milliseconds(Int64(connectTimeout * 1000)), group: group)
        var settings = DataCenterClient.Configuration()
        settings.backoffInitial = .milliseconds(Int64(backoffInitial * 1000))
        settings.backoffMaximum = .milliseconds(Int64(backoffMax * 1000))
        var logger = Logger(label: "fleet-agents")
        // Connection failures during a gateway restart are expected by the thousand; refusals are not.
        logger.logLevel = .error
        let counters = FleetCounters()
        let simulated = credentials.hosts.map { SimulatedAgent(name: $0.name, token: $0.token, counters: counters) }
        let started = ContinuousClock.now
        Output.line("fleet-agents: \(agents) agents (\(credentials.hosts.first?.name ?? "")...) to \(url)")

        await withTaskGroup(of: Void.self) { tasks in
            for (index, agent) in simulated.enumerated() {
                let delay = ramp * Double(index) / Double(agents)
                let client = DataCenterClient(endpoints: endpoints, connector: connector, configuration: settings, logger: logger)
                tasks.addTask {
                    guard (try? await Task.sleep(for: .milliseconds(Int64(delay * 1000)))) != nil else { return }
                    await withTaskGroup(of: Void.self) { agentTasks in
                        agentTasks.addTask { await client.run(agent) }
                        agentTasks.addTask { await agent.report() }
                    }
                }
            }
            await waitForStop(counters: counters, started: started)
            tasks.cancelAll()
        }
        try? await group.shutdownGracefully()
        let elapsed = (ContinuousClock.now - started).seconds
        Output.line(
            JSONValue.fields([
                ("mode", .string("fleet-agents")),
                ("agents", .int(agents)),
                ("seconds", .double(elapsed)),
            ] + Self.status(counters)).encoded)
    }

    /// Prints a status line every second until the stop file appears or --max-hold has passed.
    private func waitForStop(counters: FleetCounters, started: ContinuousClock.Instant) async {
        let deadline = started + .milliseconds(Int64(maxHold * 1000))
        while ContinuousClock.now < deadline {
            if let stopFile, FileManager.default.fileExists(atPath: stopFile) { return }
            try? await Task.sleep(for: .seconds(1))
            let fields = [("t", JSONValue.double((ContinuousClock.now - started).seconds))] + Self.status(counters)
            Output.line("fleet-agents status " + JSONValue.fields(fields).encoded)
        }
    }

    private static func status(_ counters: FleetCounters) -> [(String, JSONValue)] {
        let values = counters.snapshot
        return [
            ("online", .int(values.online)),
            ("authentications", .int(values.authentications)),
            ("reports", .int(values.reports)),
            ("jobs_started", .int(values.jobsStarted)),
            ("jobs_finished", .int(values.jobsFinished)),
            ("jobs_cancelled", .int(values.jobsCancelled)),
            ("chunks", .int(values.chunks)),
            ("undelivered", .int(values.undelivered)),
            ("client_cpu_s", .double(RunReport.cpuSeconds())),
        ]
    }
}
