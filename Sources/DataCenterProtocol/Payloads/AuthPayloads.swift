/// `auth.agent`: a host agent proves its host token and announces its allow-list.
public struct AgentAuthRequest: Codable, Sendable, Hashable {
    /// The host name, `[A-Za-z0-9._-]{1,64}`.
    public var host: String
    public var token: String
    public var agentVersion: String
    public var actions: [ActionSpec]
    /// The timers the central side registered on the agent, as the agent keeps them (absent from
    /// agents that predate them), so the central side knows what a timer's runs are.
    public var timers: [TimerSpec]?

    public init(host: String, token: String, agentVersion: String, actions: [ActionSpec], timers: [TimerSpec]? = nil) {
        self.host = host
        self.token = token
        self.agentVersion = agentVersion
        self.actions = actions
        self.timers = timers
    }

    /// True when `name` is a valid host name: 1 to 64 of `A-Z a-z 0-9 . _ -`.
    public static func isValidHostName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }
}

/// The reply to `auth.agent`.
public struct AgentAuthReply: Codable, Sendable, Hashable {
    public var host: String
    /// The report periods the central side asks for, in seconds; absent ones keep the agent's own.
    public var reportPeriods: ReportPeriods

    public init(host: String, reportPeriods: ReportPeriods = ReportPeriods()) {
        self.host = host
        self.reportPeriods = reportPeriods
    }
}

/// Report periods in seconds, per report (`report.hostInfo`, `report.cpu`, `report.bandwidth`, `report.vps`).
public struct ReportPeriods: Codable, Sendable, Hashable {
    public var hostInfo: Double?
    public var cpu: Double?
    public var bandwidth: Double?
    public var vps: Double?

    public init(hostInfo: Double? = nil, cpu: Double? = nil, bandwidth: Double? = nil, vps: Double? = nil) {
        self.hostInfo = hostInfo
        self.cpu = cpu
        self.bandwidth = bandwidth
        self.vps = vps
    }
}

/// `auth.operator`: a dashboard, client library or text-port service proves its token.
public struct OperatorAuthRequest: Codable, Sendable, Hashable {
    public var token: String

    public init(token: String) {
        self.token = token
    }
}

/// The reply to `auth.operator`.
public struct OperatorAuthReply: Codable, Sendable, Hashable {
    /// The token's name.
    public var `operator`: String
    public var role: OperatorRole

    public init(operator: String, role: OperatorRole) {
        self.operator = `operator`
        self.role = role
    }
}

/// Who an operator token belongs to: a person (dashboard) or a service (scripts, the text port).
public enum OperatorRole: String, Codable, Sendable, Hashable {
    case `operator`
    case service
}
