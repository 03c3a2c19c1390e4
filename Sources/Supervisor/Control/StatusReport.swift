import Foundation

/// What `datacentered status` shows, read live from the supervisor and its children.
public struct StatusReport: Codable, Sendable {
    /// One child process.
    public struct Process: Codable, Sendable {
        public var name: String
        public var role: String
        public var pid: Int32?
        /// `running`, `starting`, `restarting in 4 s`, `stopped`.
        public var state: String
        public var startedAt: Date?
        /// Resident memory from /proc, bytes.
        public var memoryBytes: Int?
        public var listening: String
        /// Where it serves `/metrics`.
        public var metricsAddress: String?
        public var restarts: Int
        /// Its counters from `/statistics`, when it answered.
        public var statistics: ProcessStatistics?
    }

    public var version: String
    /// False while the supervisor is still starting its children.
    public var isStarted: Bool
    public var masterPID: Int32
    public var startedAt: Date
    public var loadAverage: [Double]
    /// Role -> processes running.
    public var processesByRole: [String: Int]
    /// Role -> how its processes ended (`exit 1`, `SIGKILL`) -> how many times.
    public var exitsByRole: [String: [String: Int]]
    public var processes: [Process]
}

/// One client connection as `datacentered connections` lists it.
public struct ConnectionInfo: Codable, Sendable {
    public var clientID: String
    public var remoteAddress: String
    public var gateway: String
    public var uid: String?
    public var groups: [String]
    /// Seconds since the client last sent anything, when the gateway tracks it.
    public var idleSeconds: Double?

    public init(clientID: String, remoteAddress: String, gateway: String, uid: String?, groups: [String], idleSeconds: Double? = nil) {
        self.clientID = clientID
        self.remoteAddress = remoteAddress
        self.gateway = gateway
        self.uid = uid
        self.groups = groups
        self.idleSeconds = idleSeconds
    }
}
