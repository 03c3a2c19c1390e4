import DataCenterProtocol
import Foundation

/// The figures one simulated host reports: the shapes and sizes of a real VPS host node's reports
/// (16 cores, two disks, three VPS), with values that move between reports.
///
/// The first interface's received-bytes counter is the report's send time in microseconds since the
/// epoch (a counter that only grows, as a real one does), so an operator that sees the change can tell
/// how long it took to reach it (`FleetOperator`); every process of the benchmark shares the clock.
struct SimulatedHost: Sendable {
    static let cores = 16
    static let memoryTotal: Int64 = 256 << 30

    let name: String
    let bootTime = Date().addingTimeInterval(-Double.random(in: 86_400...8_640_000))

    var servers: [VPSEntry] {
        (1...3).map { index in
            VPSEntry(name: "\(name)-vps\(index)", state: "running", technology: "libvirt", ips: ["10.\(index).0.\(index + 10)"])
        }
    }

    func hostInfo() -> HostInfoReport {
        HostInfoReport(
            hostname: name, os: "Debian GNU/Linux 12 (bookworm)", kernel: "6.1.0-fleet-amd64",
            cpuModel: "Simulated Xeon @ 2.40GHz", cpuCount: Self.cores, memoryTotal: Self.memoryTotal,
            memoryAvailable: Int64.random(in: (Self.memoryTotal / 8)...(Self.memoryTotal / 2)),
            disks: [
                DiskUsage(mount: "/", total: 100 << 30, free: Int64.random(in: (20 << 30)...(60 << 30))),
                DiskUsage(mount: "/var/lib/libvirt", total: 4 << 40, free: Int64.random(in: (1 << 40)...(2 << 40))),
            ],
            uptimeSeconds: Date().timeIntervalSince(bootTime),
            load: (0..<3).map { _ in (Double.random(in: 0...8) * 100).rounded() / 100 },
            ioWaitPercent: (Double.random(in: 0...5) * 10).rounded() / 10)
    }

    func cpu() -> CPUReport {
        let cores = (0..<Self.cores).map { _ in (Double.random(in: 0...100) * 10).rounded() / 10 }
        return CPUReport(total: (cores.reduce(0, +) / Double(cores.count) * 10).rounded() / 10, cores: cores)
    }

    /// - Parameter sentAt: now, as microseconds since the epoch: the first interface's rx counter.
    func bandwidth(sentAt: Int64) -> BandwidthReport {
        func rate() -> Double { (Double.random(in: 0...12_500_000)).rounded() }
        let uplink = TrafficCounters(name: "eth0", rxBytes: sentAt, txBytes: sentAt / 2, rxRate: rate(), txRate: rate())
        let perVPS = servers.map { server in
            TrafficCounters(name: server.name, rxBytes: sentAt / 8, txBytes: sentAt / 16, rxRate: rate(), txRate: rate())
        }
        return BandwidthReport(interfaces: [uplink], vps: perVPS)
    }

    func inventory() -> VPSReport {
        let servers = self.servers
        return VPSReport(vps: servers, ipMap: Dictionary(uniqueKeysWithValues: servers.flatMap { server in server.ips.map { ($0, server.name) } }))
    }

    /// Microseconds since the epoch.
    static func nowMicros() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1_000_000)
    }
}
