import NIOConcurrencyHelpers
import Prometheus

/// Writes ``ProcessStatistics`` into a Prometheus registry and renders the text format. Children
/// keep their counters in their own structs; this copies the current values at each scrape.
public final class StatisticsExposition: Sendable {
    /// The registry the values go into (the supervisor also registers its own metrics there).
    public let registry: PrometheusCollectorRegistry
    private let lock = NIOLock()

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// Sets every metric of `statistics` (labelled with `labels`) to its current value.
    public func record(_ statistics: ProcessStatistics, labels: [(String, String)] = []) {
        lock.withLock {
            for (field, value) in statistics.counters {
                let name = statistics.metricName(field)
                if ProcessStatistics.gaugeNames.contains(field) {
                    registry.makeGauge(name: name, labels: labels).set(Int64(value))
                } else {
                    let counter = registry.makeCounter(name: name, labels: labels)
                    counter.reset()
                    counter.increment(by: Int64(value))
                }
            }
            for (field, values) in statistics.labelledCounters {
                let (name, label) = statistics.labelledMetric(field)
                for (value, count) in values {
                    let counter = registry.makeCounter(name: name, labels: labels + [(label, value)])
                    counter.reset()
                    counter.increment(by: Int64(count))
                }
            }
        }
    }

    /// The registry in the Prometheus text format.
    public func render() -> String {
        lock.withLock { registry.emitToString() }
    }
}
