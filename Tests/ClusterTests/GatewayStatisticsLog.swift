import ClusterTesting
import Foundation

/// Reads the counters a gateway logs every `--stats-interval`.
enum GatewayStatisticsLog {
    /// No statistics line as expected came in time.
    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    /// The counters of the gateway's last statistics line, by name.
    static func latest(_ gateway: TestCluster.Gateway) -> [String: Int]? {
        latest(in: gateway.process)
    }

    /// The counters of the last statistics line of a gateway process, by name.
    static func latest(in gateway: ManagedProcess) -> [String: Int]? {
        let marker = "gateway statistics: "
        guard let line = gateway.output.split(separator: "\n").last(where: { $0.contains(marker) }),
            let start = line.range(of: marker)?.upperBound
        else { return nil }
        var counters: [String: Int] = [:]
        for pair in line[start...].split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Int(parts[1]) { counters[String(parts[0])] = value }
        }
        return counters
    }

    /// Waits until a statistics line satisfies `condition` and returns its counters.
    static func wait(
        for gateway: TestCluster.Gateway,
        timeout: Duration = .seconds(15),
        until condition: ([String: Int]) -> Bool
    ) async throws -> [String: Int] {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let counters = latest(gateway), condition(counters) { return counters }
            guard ContinuousClock.now < deadline else {
                throw Timeout(description: "no statistics line as expected within \(timeout); last: \(latest(gateway).map { "\($0)" } ?? "none")")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
