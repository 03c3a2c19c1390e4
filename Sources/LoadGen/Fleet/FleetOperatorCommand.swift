import ArgumentParser
import DataCenterClient
import DataCenterProtocol
import Foundation
import Histogram
import Logging
import NIOPosix

/// `fleet-operator`: the measuring side of the fleet benchmark. One operator connection waits until
/// the expected agents are online, measures how long reports take to reach it, then fans a job out to
/// many hosts and measures its output and exit statuses, then a cancel. Human lines, then a JSON summary.
struct FleetOperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet-operator",
        abstract: "Operator side of the fleet benchmark: online wait, report latency, job fan-out and cancel."
    )

    @Option(help: "Gateways, comma-separated ws://HOST:PORT/ (loopback only).")
    var url: String = "ws://127.0.0.1:8080/"

    @Option(help: "A file holding the operator token (first line).")
    var tokenFile: String

    @Option(help: "Host names, one per line (or 'name<TAB>token' lines; only the names are read): the job targets.")
    var hostsFile: String?

    @Option(help: "Wait until cluster.stats counts this many agents online (0: do not wait).")
    var expectOnline: Int = 0

    @Option(help: "Give up waiting for --expect-online after this many seconds.")
    var onlineTimeout: Double = 120

    @Option(help: "Seconds to measure report→operator latency (0: skip).")
    var latencyDuration: Double = 0

    @Option(help: "Hosts to fan one job out to, and then a cancel (0: skip).")
    var jobs: Int = 0

    @Option(help: "Give up waiting for a fan-out's results after this many seconds.")
    var jobWait: Double = 60

    @Option(help: "Connections the fan-outs are shared over (more than 1 needs --service-token-file: each is a service).")
    var fanoutConnections: Int = 1

    @Option(help: "A file holding a service token (first line), for --fanout-connections above 1.")
    var serviceTokenFile: String?

    @Flag(help: "Fan out with one jobs.run / jobs.cancel per host instead of jobs.runMany / jobs.cancelMany (to compare).")
    var perJob = false

    func validate() throws {
        guard expectOnline >= 0, onlineTimeout > 0, onlineTimeout <= 600 else { throw ValidationError("--online-timeout must be in (0, 600]") }
        guard latencyDuration >= 0, latencyDuration <= 600 else { throw ValidationError("--latency-duration must be in [0, 600]") }
        guard (0...20_000).contains(jobs) else { throw ValidationError("--jobs must be 0...20000") }
        guard jobs == 0 || hostsFile != nil else { throw ValidationError("--jobs needs --hosts-file") }
        guard jobWait > 0, jobWait <= 600 else { throw ValidationError("--job-wait must be in (0, 600]") }
        guard (1...64).contains(fanoutConnections) else { throw ValidationError("--fanout-connections must be 1...64") }
        guard fanoutConnections == 1 || serviceTokenFile != nil else { throw ValidationError("--fanout-connections above 1 needs --service-token-file") }
        _ = try FleetAgentsCommand.endpoints(url)
    }

    func run() async throws {
        let token = try Self.readToken(tokenFile)
        let targets: [String] = try hostsFile.map { path in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
            return text.split(separator: "\n").compactMap { $0.split(separator: "\t").first.map(String.init) }
        } ?? []
        guard targets.count >= jobs else { throw ValidationError("--jobs \(jobs) but \(hostsFile ?? "") names \(targets.count) hosts") }

        let handler = FleetOperator(token: token)
        let started = ContinuousClock.now
        let connection = try connect(handler)
        defer { connection.cancel() }

        var summary: [(String, JSONValue)] = [("mode", .string("fleet-operator"))]
        if expectOnline > 0 {
            summary += try await waitForOnline(handler, started: started)
        }
        if latencyDuration > 0 {
            try await waitForSession(handler, started: started)
            summary += try await measureLatency(handler)
        }
        if jobs > 0 {
            var fanOutConnections = [handler]
            if let serviceTokenFile, fanoutConnections > 1 {
                let serviceToken = try Self.readToken(serviceTokenFile)
                fanOutConnections = (0..<fanoutConnections).map { _ in FleetOperator(token: serviceToken, observations: handler.observations) }
            }
            let tasks = try fanOutConnections.filter { $0 !== handler }.map { try connect($0) }
            defer { tasks.forEach { $0.cancel() } }
            for connection in fanOutConnections { try await waitForSession(connection, started: started) }
            let fanOut = try JobFanOut(
                connections: fanOutConnections, observations: handler.observations, hosts: Array(targets.prefix(jobs)), wait: jobWait, perJob: perJob)
            summary += [("fanout_connections", .int(fanOutConnections.count))]
            summary += try await fanOut.runAndCollect()
            summary += try await fanOut.runAndCancel()
        }
        Output.line(JSONValue.fields(summary).encoded)
    }

    /// Keeps `handler`'s connection open (reconnecting) until the returned task is cancelled.
    private func connect(_ handler: FleetOperator) throws -> Task<Void, Never> {
        var logger = Logger(label: "fleet-operator")
        logger.logLevel = .error
        var settings = DataCenterClient.Configuration()
        settings.backoffInitial = .milliseconds(200)
        settings.backoffMaximum = .seconds(2)
        let client = DataCenterClient(
            endpoints: try FleetAgentsCommand.endpoints(url), connector: try WebSocketConnector(allowPlainWebSocket: true),
            configuration: settings, logger: logger)
        return Task { await client.run(handler) }
    }

    private static func readToken(_ path: String) throws -> String {
        guard let token = try? String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first.map(String.init) else {
            throw ValidationError("cannot read a token from \(path)")
        }
        return token
    }

    /// Polls `cluster.stats` until `--expect-online` agents are online; the time counts from the start
    /// of this command (the script starts it the moment the gateways go down, for the restart figure).
    private func waitForOnline(_ handler: FleetOperator, started: ContinuousClock.Instant) async throws -> [(String, JSONValue)] {
        var online = 0
        while ContinuousClock.now - started < .milliseconds(Int64(onlineTimeout * 1000)) {
            if let session = handler.session,
                let reply = try? await session.request(.clusterStats, EmptyPayload(), timeout: .seconds(5)),
                let stats = try? reply.payload(ClusterStatsReply.self)
            {
                online = stats.agentsOnline
                if online >= expectOnline { break }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        let seconds = (ContinuousClock.now - started).seconds
        Output.line("online: \(online)/\(expectOnline) agents after \(String(format: "%.1f", seconds)) s")
        return [("agents_online", .int(online)), ("online_seconds", .double(seconds)), ("online_at_unix", .double(Date().timeIntervalSince1970))]
    }

    /// Waits (as long as --online-timeout) until the operator's connection is authenticated.
    private func waitForSession(_ handler: FleetOperator, started: ContinuousClock.Instant) async throws {
        while handler.session == nil {
            guard ContinuousClock.now - started < .milliseconds(Int64(onlineTimeout * 1000)) else {
                throw ValidationError("the operator could not connect and authenticate within \(onlineTimeout) s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func measureLatency(_ handler: FleetOperator) async throws -> [(String, JSONValue)] {
        _ = handler.observations.takeHostChanges()
        try await Task.sleep(for: .milliseconds(Int64(latencyDuration * 1000)))
        let (latency, toCentral, count) = handler.observations.takeHostChanges()
        func ms(_ percentile: Double, of histogram: Histogram<UInt64> = latency) -> Double {
            histogram.totalCount == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
        }
        let perSecond = Double(count) / latencyDuration
        Output.line(
            "reports seen by the operator: \(count) host.changed (\(String(format: "%.0f", perSecond))/s); bandwidth report→operator ms p50 \(ms(50)) p99 \(ms(99)) max \(latency.totalCount == 0 ? 0 : Double(latency.max) / 1000) (\(latency.totalCount) samples); of which until the central side handled it: p50 \(ms(50, of: toCentral)) p99 \(ms(99, of: toCentral))"
        )
        return [
            ("operator_updates", .int(count)),
            ("operator_updates_per_sec", .double(perSecond)),
            ("latency_samples", .int(Int(latency.totalCount))),
            ("latency_p50_ms", .double(ms(50))),
            ("latency_p99_ms", .double(ms(99))),
            ("latency_max_ms", .double(latency.totalCount == 0 ? 0 : Double(latency.max) / 1000)),
            ("to_central_p50_ms", .double(ms(50, of: toCentral))),
            ("to_central_p99_ms", .double(ms(99, of: toCentral))),
        ]
    }
}
