import Foundation

/// Everything `datacentered agent` is told, as read from its JSON config file
/// (Config/agent.example.json documents every key). Every key has a default except `gateways`.
public struct AgentConfiguration: Sendable, Codable {
    /// Gateway URLs (`wss://host:port/path`), tried in turn: another one when one is down.
    public var gateways: [String] = []
    /// This host's name in the fleet; the system's host name when absent.
    public var host: String?
    /// The file holding this host's token; it must be readable by its owner only.
    public var tokenFile = "/etc/datacentered/agent.token"
    /// PEM file of the CA that signs the gateways' certificates; the system's trust store when absent.
    public var caFile: String?
    /// Plain `ws://` gateways are refused unless this is true (a loopback test, a private network).
    public var allowPlainWebSocket = false
    /// Where the agent keeps its lock file, job records, output spool, timers and counters.
    public var stateDirectory = "/var/lib/datacentered-agent"
    public var reports = ReportPeriods()
    public var connection = ConnectionSettings()
    public var inventory = InventoryCommands()
    public var jobs = JobLimits()
    /// The allow-list: the only actions the central side can run here.
    public var actions: [AllowedAction] = []
    /// Where /proc, /sys and /etc are (a fixture tree in tests).
    public var system = SystemPaths()

    public init() {}

    /// Seconds between two reports of each kind.
    public struct ReportPeriods: Sendable, Codable, Equatable {
        public var hostInfoSeconds = 60.0
        public var cpuSeconds = 10.0
        public var bandwidthSeconds = 10.0
        /// How often the inventory is read; it is sent only when it changed (and in full at connect).
        public var inventorySeconds = 60.0
        public init() {}
    }

    /// Keepalive, silence timeout and reconnect backoff.
    public struct ConnectionSettings: Sendable, Codable, Equatable {
        /// A WebSocket ping is sent after this long without sending anything.
        public var pingSeconds = 15.0
        /// A connection that has received nothing (not even a pong) for this long is dropped.
        public var silenceTimeoutSeconds = 45.0
        /// Full-jitter exponential backoff between attempts: a random wait in 0 ... min(max, initial * 2^n).
        public var backoffInitialSeconds = 0.5
        public var backoffMaxSeconds = 30.0
        /// How long a request to the central side waits for its reply.
        public var requestTimeoutSeconds = 30.0
        public init() {}
    }

    /// Limits on jobs.
    public struct JobLimits: Sendable, Codable, Equatable {
        /// Jobs running at once; one more is refused with `busy`.
        public var maxConcurrent = 4
        /// A job's timeout when neither the job nor its action names one.
        public var defaultTimeoutSeconds = 600
        /// The longest timeout a job may ask for.
        public var maxTimeoutSeconds = 86_400
        /// Output bytes (both streams) sent per job; the rest is discarded and a note says so.
        public var outputCapBytes = 1 << 20
        /// Seconds between SIGTERM and SIGKILL on cancel and timeout.
        public var cancelGraceSeconds = 5.0
        /// Bytes of unacknowledged output and results kept on disk while the central side is unreachable.
        public var spoolMaxBytes = 64 << 20
        /// Finished job records older than this are forgotten (a job id re-sent later would run again).
        public var recordRetentionDays = 30.0
        public init() {}
    }

    /// Reads the config file; absent keys (at any depth) keep their defaults.
    public static func load(from path: String) throws -> AgentConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else { throw AgentConfigurationError.unreadable(path) }
        do {
            return try decode(data)
        } catch {
            throw AgentConfigurationError.invalid(path: path, detail: "\(error)")
        }
    }

    /// Decodes a config file's JSON laid over the defaults, so the file names only what differs; from
    /// its `agent` section when it is the supervisor's file of every role.
    public static func decode(_ data: Data) throws -> AgentConfiguration {
        guard let file = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw AgentConfigurationError.invalid(path: "-", detail: "not a JSON object")
        }
        // The supervisor's file (`datacentered start --config`) is shared by every role: the agent's
        // keys are then its `agent` section.
        let given = file["gateways"] == nil ? (file["agent"] as? [String: Any] ?? file) : file
        let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(AgentConfiguration())) as! [String: Any]
        let merged = try JSONSerialization.data(withJSONObject: overlay(given, on: defaults))
        return try JSONDecoder().decode(AgentConfiguration.self, from: merged)
    }

    private static func overlay(_ given: [String: Any], on defaults: [String: Any]) -> [String: Any] {
        defaults.merging(given) { defaultValue, givenValue in
            guard let defaultObject = defaultValue as? [String: Any], let givenObject = givenValue as? [String: Any] else { return givenValue }
            return overlay(givenObject, on: defaultObject)
        }
    }

    /// Checks what decoding cannot: names, URLs, limits.
    public func validate() throws {
        guard !gateways.isEmpty else { throw AgentConfigurationError.noGateway }
        for gateway in gateways {
            guard let url = URL(string: gateway), let scheme = url.scheme, ["ws", "wss"].contains(scheme), url.host != nil else {
                throw AgentConfigurationError.badGateway(gateway)
            }
            if scheme == "ws", !allowPlainWebSocket { throw AgentConfigurationError.plainWebSocketNotAllowed(gateway) }
        }
        var names: Set<String> = []
        for action in actions {
            guard names.insert(action.name).inserted else { throw AgentConfigurationError.duplicateAction(action.name) }
            for parameter in action.spec.params where parameter.type == .enum && (parameter.values ?? []).isEmpty {
                throw AgentConfigurationError.enumWithoutValues(action: action.name, parameter: parameter.name)
            }
        }
        guard jobs.maxConcurrent > 0, jobs.defaultTimeoutSeconds > 0, jobs.outputCapBytes > 0, jobs.spoolMaxBytes > 0 else {
            throw AgentConfigurationError.badLimit
        }
    }

    /// The configured host name, else the system's.
    public var resolvedHost: String {
        host ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
    }
}

/// A config file the agent cannot run with.
public enum AgentConfigurationError: Error, CustomStringConvertible, Equatable {
    case unreadable(String)
    case invalid(path: String, detail: String)
    case noGateway
    case badGateway(String)
    case plainWebSocketNotAllowed(String)
    case duplicateAction(String)
    case enumWithoutValues(action: String, parameter: String)
    case badLimit

    public var description: String {
        switch self {
        case .unreadable(let path): return "cannot read the config file \(path)"
        case .invalid(let path, let detail): return "config file \(path) is not valid: \(detail)"
        case .noGateway: return "no gateway URL in the config ('gateways')"
        case .badGateway(let url): return "'\(url)' is not a ws:// or wss:// URL with a host"
        case .plainWebSocketNotAllowed(let url): return "'\(url)' is plain ws://: set 'allowPlainWebSocket' to use it"
        case .duplicateAction(let name): return "action '\(name)' is defined twice"
        case .enumWithoutValues(let action, let parameter): return "enum parameter '\(parameter)' of '\(action)' has no 'values'"
        case .badLimit: return "job limits must be positive"
        }
    }
}
