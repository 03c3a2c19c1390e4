import DataCenterProtocol
import Prometheus
import Registry

/// Every host's latest figures in the Prometheus text format, one series per host (label `host`), read
/// from memcached at each scrape, so any worker serves all hosts and an existing Prometheus keeps the history.
public struct HostMetrics: Sendable {
    private let hosts: HostStore

    public init(globalData: GlobalData) {
        self.hosts = HostStore(data: globalData)
    }

    /// The text of every host's gauges. A new registry each time, so a forgotten host leaves no stale series.
    public func render() async throws -> String {
        let registry = PrometheusCollectorRegistry()
        for state in try await hosts.states(of: try await hosts.hostNames()) {
            Self.record(state, in: registry)
        }
        var text: [UInt8] = []
        registry.emit(into: &text)
        return String(decoding: text, as: UTF8.self)
    }

    private static func record(_ state: HostState, in registry: PrometheusCollectorRegistry) {
        let host = [("host", state.host)]
        func gauge(_ name: String, unit: String = "", _ value: Double, _ labels: [(String, String)] = [], help: String) {
            let descriptor = MetricNameDescriptor(namespace: "datacentered", subsystem: "host", metricName: name, unitName: unit, helpText: help)
            registry.makeGauge(descriptor: descriptor, labels: host + labels).set(value)
        }
        gauge("online", state.online ? 1 : 0, help: "1 while the host's agent is connected")
        if let at = state.lastReportAt {
            gauge("last_report_timestamp", unit: "seconds", at.date.timeIntervalSince1970, help: "when the host last reported")
        }
        if let cpu = state.cpu {
            gauge("cpu_busy", unit: "percent", cpu.total, help: "CPU busy, all cores")
        }
        if let info = state.info {
            gauge("memory_total", unit: "bytes", Double(info.memoryTotal), help: "memory installed")
            gauge("memory_available", unit: "bytes", Double(info.memoryAvailable), help: "memory available")
            gauge("uptime", unit: "seconds", info.uptimeSeconds, help: "time since boot")
            gauge("iowait", unit: "percent", info.ioWaitPercent, help: "CPU time waiting for I/O")
            for (minutes, load) in zip(["1", "5", "15"], info.load) {
                gauge("load", load, [("minutes", minutes)], help: "load average")
            }
            for disk in info.disks {
                gauge("disk_total", unit: "bytes", Double(disk.total), [("mount", disk.mount)], help: "file system size")
                gauge("disk_free", unit: "bytes", Double(disk.free), [("mount", disk.mount)], help: "file system space free")
            }
        }
        if let bandwidth = state.bandwidth {
            for (kind, counters) in [("interface", bandwidth.interfaces), ("vps", bandwidth.vps)] {
                for traffic in counters {
                    let labels = [("kind", kind), ("name", traffic.name)]
                    gauge("receive", unit: "bytes", Double(traffic.rxBytes), labels, help: "bytes received, as the agent counts them")
                    gauge("transmit", unit: "bytes", Double(traffic.txBytes), labels, help: "bytes sent, as the agent counts them")
                    gauge("receive", unit: "bytes_per_second", traffic.rxRate, labels, help: "receive rate")
                    gauge("transmit", unit: "bytes_per_second", traffic.txRate, labels, help: "send rate")
                }
            }
        }
        if let vps = state.vps {
            gauge("vps", Double(vps.count), help: "VPSes on the host")
        }
    }
}
