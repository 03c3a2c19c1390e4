/// Everything the central side knows about a host: its latest reports and whether its agent is connected.
public struct HostState: Codable, Sendable, Hashable {
    public var host: String
    public var online: Bool
    public var lastReportAt: Timestamp?
    public var info: HostInfoReport?
    public var cpu: CPUReport?
    public var bandwidth: BandwidthReport?
    public var vps: [VPSEntry]?
    public var ipMap: [String: String]?

    public init(
        host: String, online: Bool = false, lastReportAt: Timestamp? = nil, info: HostInfoReport? = nil,
        cpu: CPUReport? = nil, bandwidth: BandwidthReport? = nil, vps: [VPSEntry]? = nil, ipMap: [String: String]? = nil
    ) {
        self.host = host
        self.online = online
        self.lastReportAt = lastReportAt
        self.info = info
        self.cpu = cpu
        self.bandwidth = bandwidth
        self.vps = vps
        self.ipMap = ipMap
    }

    /// The one line of `hosts.list` for this host.
    public var summary: HostSummary {
        HostSummary(
            host: host, online: online, lastReportAt: lastReportAt, cpu: cpu?.total,
            memoryUsedPercent: info?.memoryUsedPercent, load1: info?.load.first,
            rxRate: bandwidth?.rxRate, txRate: bandwidth?.txRate, vpsCount: vps?.count)
    }
}

/// `host.changed`: the host, when it reported, and the report that changed its `HostState` (absent =
/// unchanged). Presence comes apart, as `host.online` and `host.offline`.
public struct HostChange: Codable, Sendable, Hashable {
    public var host: String
    public var lastReportAt: Timestamp?
    public var info: HostInfoReport?
    public var cpu: CPUReport?
    public var bandwidth: BandwidthReport?
    public var vps: [VPSEntry]?
    public var ipMap: [String: String]?

    public init(host: String) {
        self.host = host
    }
}

/// One line of `hosts.list`: a host's headline figures (absent until the host has reported them).
public struct HostSummary: Codable, Sendable, Hashable {
    public var host: String
    public var online: Bool
    public var lastReportAt: Timestamp?
    /// Percent busy.
    public var cpu: Double?
    public var memoryUsedPercent: Double?
    public var load1: Double?
    /// Bytes per second over every interface.
    public var rxRate: Double?
    public var txRate: Double?
    public var vpsCount: Int?

    public init(
        host: String, online: Bool, lastReportAt: Timestamp?, cpu: Double?, memoryUsedPercent: Double?,
        load1: Double?, rxRate: Double?, txRate: Double?, vpsCount: Int?
    ) {
        self.host = host
        self.online = online
        self.lastReportAt = lastReportAt
        self.cpu = cpu
        self.memoryUsedPercent = memoryUsedPercent
        self.load1 = load1
        self.rxRate = rxRate
        self.txRate = txRate
        self.vpsCount = vpsCount
    }
}

/// `host.online` and `host.offline`.
public struct HostPresence: Codable, Sendable, Hashable {
    public var host: String
    public var at: Timestamp

    public init(host: String, at: Timestamp) {
        self.host = host
        self.at = at
    }
}
