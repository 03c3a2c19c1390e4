import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import Supervisor

/// `--metrics host:port`: the process's internal HTTP endpoint (`/metrics` for Prometheus,
/// `/statistics` and, on gateways, `/connections` for the supervisor).
struct MetricsOptions: ParsableArguments {
    @Option(help: "Serve /metrics (Prometheus) and /statistics (JSON) on this internal address, host:port. Off by default.")
    var metrics: String?

    /// Starts the endpoint when `--metrics` is given.
    /// - Parameters:
    ///   - eventLoops: the loops whose lag `eventLoopLagMicroseconds` reports.
    ///   - appended: more metrics text for `/metrics` (the datacenter handler's host figures).
    func serve(
        role: String, statistics: @escaping @Sendable () -> Any, eventLoops: (any EventLoopGroup)? = nil,
        connections: (@Sendable () async -> [ConnectionInfo])? = nil,
        appended: (@Sendable () async -> String)? = nil
    ) async throws -> MetricsHTTPServer? {
        guard let metrics else { return nil }
        guard let address = HostPort(metrics) else { throw ValidationError("--metrics must be host:port, got '\(metrics)'") }
        let exposition = StatisticsExposition()
        let current: @Sendable () async -> ProcessStatistics = {
            var current = ProcessStatistics(role: role, reflecting: statistics())
            if let eventLoops { current.counters["eventLoopLagMicroseconds"] = await EventLoopLag.measure(eventLoops) }
            return current
        }
        var routes: [String: MetricsHTTPServer.Route] = [
            "/metrics": {
                exposition.record(await current())
                return ("text/plain; version=0.0.4", exposition.render() + (await appended?() ?? ""))
            },
            "/statistics": { ("application/json", Self.json(await current())) },
        ]
        if let connections {
            routes["/connections"] = { ("application/json", Self.json(await connections())) }
        }
        return try await MetricsHTTPServer.start(host: address.host, port: address.port, routes: routes, group: MultiThreadedEventLoopGroup.singleton)
    }

    private static func json(_ value: some Encodable) -> String {
        (try? JSONEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
