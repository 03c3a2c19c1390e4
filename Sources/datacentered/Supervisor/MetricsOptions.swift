import ArgumentParser
import Foundation
import NIOPosix
import Supervisor

/// `--metrics host:port`: the process's internal HTTP endpoint (`/metrics` for Prometheus,
/// `/statistics` and, on gateways, `/connections` for the supervisor).
struct MetricsOptions: ParsableArguments {
    @Option(help: "Serve /metrics (Prometheus) and /statistics (JSON) on this internal address, host:port. Off by default.")
    var metrics: String?

    /// Starts the endpoint when `--metrics` is given.
    func serve(
        role: String, statistics: @escaping @Sendable () -> Any, connections: (@Sendable () -> [ConnectionInfo])? = nil
    ) async throws -> MetricsHTTPServer? {
        guard let metrics else { return nil }
        guard let address = HostPort(metrics) else { throw ValidationError("--metrics must be host:port, got '\(metrics)'") }
        let exposition = StatisticsExposition()
        var routes: [String: MetricsHTTPServer.Route] = [
            "/metrics": {
                exposition.record(ProcessStatistics(role: role, reflecting: statistics()))
                return ("text/plain; version=0.0.4", exposition.render())
            },
            "/statistics": { ("application/json", Self.json(ProcessStatistics(role: role, reflecting: statistics()))) },
        ]
        if let connections {
            routes["/connections"] = { ("application/json", Self.json(connections())) }
        }
        return try await MetricsHTTPServer.start(host: address.host, port: address.port, routes: routes, group: MultiThreadedEventLoopGroup.singleton)
    }

    private static func json(_ value: some Encodable) -> String {
        (try? JSONEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
