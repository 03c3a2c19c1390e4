/// `report.hostInfo`: what the host is and how loaded it is.
public struct HostInfoReport: Codable, Sendable, Hashable {
    public var hostname: String
    public var os: String
    public var kernel: String
    public var cpuModel: String
    public var cpuCount: Int
    /// Bytes.
    public var memoryTotal: Int64
    /// Bytes.
    public var memoryAvailable: Int64
    public var disks: [DiskUsage]
    public var uptimeSeconds: Double
    /// The 1, 5 and 15 minute load averages.
    public var load: [Double]
    public var ioWaitPercent: Double

    public init(
        hostname: String, os: String, kernel: String, cpuModel: String, cpuCount: Int, memoryTotal: Int64,
        memoryAvailable: Int64, disks: [DiskUsage], uptimeSeconds: Double, load: [Double], ioWaitPercent: Double
    ) {
        self.hostname = hostname
        self.os = os
        self.kernel = kernel
        self.cpuModel = cpuModel
        self.cpuCount = cpuCount
        self.memoryTotal = memoryTotal
        self.memoryAvailable = memoryAvailable
        self.disks = disks
        self.uptimeSeconds = uptimeSeconds
        self.load = load
        self.ioWaitPercent = ioWaitPercent
    }

    /// The share of memory in use, in percent.
    public var memoryUsedPercent: Double {
        memoryTotal > 0 ? Double(memoryTotal - memoryAvailable) * 100 / Double(memoryTotal) : 0
    }
}

/// One mounted file system of `report.hostInfo`, in bytes.
public struct DiskUsage: Codable, Sendable, Hashable {
    public var mount: String
    public var total: Int64
    public var free: Int64

    public init(mount: String, total: Int64, free: Int64) {
        self.mount = mount
        self.total = total
        self.free = free
    }
}

/// `report.cpu`: percent busy, in total and per core.
public struct CPUReport: Codable, Sendable, Hashable {
    public var total: Double
    public var cores: [Double]

    public init(total: Double, cores: [Double]) {
        self.total = total
        self.cores = cores
    }
}

/// `report.bandwidth`: traffic per interface and per VPS.
public struct BandwidthReport: Codable, Sendable, Hashable {
    public var interfaces: [TrafficCounters]
    public var vps: [TrafficCounters]

    public init(interfaces: [TrafficCounters], vps: [TrafficCounters] = []) {
        self.interfaces = interfaces
        self.vps = vps
    }

    /// Received bytes per second over every interface.
    public var rxRate: Double { interfaces.reduce(0) { $0 + $1.rxRate } }
    /// Sent bytes per second over every interface.
    public var txRate: Double { interfaces.reduce(0) { $0 + $1.txRate } }
}

/// Traffic of one interface or VPS: byte counters and rates in bytes per second.
public struct TrafficCounters: Codable, Sendable, Hashable {
    public var name: String
    public var rxBytes: Int64
    public var txBytes: Int64
    public var rxRate: Double
    public var txRate: Double

    public init(name: String, rxBytes: Int64, txBytes: Int64, rxRate: Double, txRate: Double) {
        self.name = name
        self.rxBytes = rxBytes
        self.txBytes = txBytes
        self.rxRate = rxRate
        self.txRate = txRate
    }
}

/// `report.vps`: the VPS list and the IP → VPS map, sent in full at connect and when it changes.
public struct VPSReport: Codable, Sendable, Hashable {
    public var vps: [VPSEntry]
    public var ipMap: [String: String]

    public init(vps: [VPSEntry], ipMap: [String: String]) {
        self.vps = vps
        self.ipMap = ipMap
    }
}

/// One VPS on a host, as its virtualisation's inventory command lists it.
public struct VPSEntry: Codable, Sendable, Hashable {
    public var name: String
    public var state: String
    /// `libvirt`, `lxc`, `openvz`, `virtuozzo`, ...
    public var technology: String
    public var ips: [String]

    public init(name: String, state: String, technology: String, ips: [String]) {
        self.name = name
        self.state = state
        self.technology = technology
        self.ips = ips
    }
}
