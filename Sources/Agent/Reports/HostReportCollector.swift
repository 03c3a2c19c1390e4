import DataCenterProtocol
import Foundation

/// Reads the host's reports from /proc, /sys and /etc (node_exporter's collectors, one parser per
/// file) and keeps what the rates need between two reads.
public struct HostReportCollector: Sendable {
    private let paths: SystemPaths
    private var cpuMeter = CPUUsageMeter()
    private var bandwidthMeter: BandwidthMeter
    /// I/O wait is reported with host-info, over the time since the previous host-info.
    private var ioWaitSample: CPUTimes?

    /// - Parameter bandwidthStateFile: where the interface counters are kept between agent runs.
    public init(paths: SystemPaths, bandwidthStateFile: String?) {
        self.paths = paths
        self.bandwidthMeter = BandwidthMeter(stateFile: bandwidthStateFile)
    }

    /// `report.hostInfo`.
    public mutating func hostInfo() throws -> HostInfoReport {
        let cpuInfo = CPUInfo.parse(try paths.readProc("cpuinfo"))
        let memory = try MemoryInfo.parse(try paths.readProc("meminfo"))
        let times = try CPUStat.parse(try paths.readProc("stat")).total
        // The first host-info reports I/O wait since boot: better than nothing for a minute.
        let ioWait = times.ioWaitPercent(since: ioWaitSample ?? CPUTimes())
        ioWaitSample = times
        let disks = MountTable.realMounts(try paths.readProc("mounts")).compactMap { mount in
            DiskSpace.of(mount.path).map { DiskUsage(mount: $0.mount, total: Int64($0.total), free: Int64($0.free)) }
        }
        let os = (try? paths.readEtc("os-release")).map(OSRelease.prettyName) ?? "Linux"
        return HostInfoReport(
            hostname: try paths.readProc("sys/kernel/hostname").trimmingCharacters(in: .whitespacesAndNewlines),
            os: os,
            kernel: try paths.readProc("sys/kernel/osrelease").trimmingCharacters(in: .whitespacesAndNewlines),
            cpuModel: cpuInfo.model,
            cpuCount: cpuInfo.count,
            memoryTotal: Int64(memory.total),
            memoryAvailable: Int64(memory.available),
            disks: disks,
            uptimeSeconds: Double(try LoadAverage.parseUptime(try paths.readProc("uptime"))),
            load: try LoadAverage.parse(try paths.readProc("loadavg")),
            ioWaitPercent: ioWait
        )
    }

    /// `report.cpu`, or nil for the first read (usage needs two).
    public mutating func cpu() throws -> CPUReport? {
        guard let usage = cpuMeter.record(try CPUStat.parse(try paths.readProc("stat"))) else { return nil }
        return CPUReport(total: usage.total, cores: usage.cores)
    }

    /// `report.bandwidth` per interface and per VPS (the sum of its host-side interfaces, seen from
    /// the VPS: what the host sends into its interface, the VPS receives), or nil while there are no
    /// rates yet (the very first read, with no earlier counters in the state file).
    public mutating func bandwidth(servers: [VirtualServer], at now: Double = Date().timeIntervalSince1970) throws -> BandwidthReport? {
        let interfaces = bandwidthMeter.record(try InterfaceCounters.parse(try paths.readProc("net/dev")), at: now)
        guard interfaces.contains(where: { $0.rxRate != nil }) else { return nil }
        let byName = Dictionary(uniqueKeysWithValues: interfaces.map { ($0.name, $0) })
        let reported = interfaces.map {
            TrafficCounters(name: $0.name, rxBytes: Int64($0.rxBytes), txBytes: Int64($0.txBytes), rxRate: $0.rxRate ?? 0, txRate: $0.txRate ?? 0)
        }
        let perServer: [TrafficCounters] = servers.compactMap { server in
            let own = server.interfaces.compactMap { byName[$0] }
            guard !own.isEmpty else { return nil }
            return TrafficCounters(
                name: server.name,
                rxBytes: Int64(own.reduce(0) { $0 + $1.txBytes }), txBytes: Int64(own.reduce(0) { $0 + $1.rxBytes }),
                rxRate: own.reduce(0) { $0 + ($1.txRate ?? 0) }, txRate: own.reduce(0) { $0 + ($1.rxRate ?? 0) }
            )
        }
        return BandwidthReport(interfaces: reported, vps: perServer)
    }
}
