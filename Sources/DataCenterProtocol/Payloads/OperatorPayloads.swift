/// `hosts.show` and `actions.list`: which host.
public struct HostQuery: Codable, Sendable, Hashable {
    public var host: String

    public init(host: String) {
        self.host = host
    }
}

/// The reply to `hosts.list`.
public struct HostsListReply: Codable, Sendable, Hashable {
    public var hosts: [HostSummary]

    public init(hosts: [HostSummary]) {
        self.hosts = hosts
    }
}

/// The reply to `hosts.show`.
public struct HostsShowReply: Codable, Sendable, Hashable {
    public var host: HostState

    public init(host: HostState) {
        self.host = host
    }
}

/// The reply to `actions.list`: what that host's agent allows.
public struct ActionsListReply: Codable, Sendable, Hashable {
    public var actions: [ActionSpec]

    public init(actions: [ActionSpec]) {
        self.actions = actions
    }
}

/// `jobs.run`: run `action` on `host`.
public struct JobsRunRequest: Codable, Sendable, Hashable {
    public var host: String
    public var action: String
    public var params: [String: String]
    public var stdin: String?
    public var timeoutSeconds: Int?

    public init(host: String, action: String, params: [String: String] = [:], stdin: String? = nil, timeoutSeconds: Int? = nil) {
        self.host = host
        self.action = action
        self.params = params
        self.stdin = stdin
        self.timeoutSeconds = timeoutSeconds
    }

    enum CodingKeys: String, CodingKey { case host, action, params, stdin, timeoutSeconds }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        host = try container.decode(String.self, forKey: .host)
        action = try container.decode(String.self, forKey: .action)
        params = try container.decodeIfPresent([String: String].self, forKey: .params) ?? [:]
        stdin = try container.decodeIfPresent(String.self, forKey: .stdin)
        timeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .timeoutSeconds)
    }
}

/// `jobs.runMany`: run `action` on every one of `hosts`, one job each (a fan-out in one request).
public struct JobsRunManyRequest: Codable, Sendable, Hashable {
    public var hosts: [String]
    public var action: String
    public var params: [String: String]
    public var stdin: String?
    public var timeoutSeconds: Int?

    public init(hosts: [String], action: String, params: [String: String] = [:], stdin: String? = nil, timeoutSeconds: Int? = nil) {
        self.hosts = hosts
        self.action = action
        self.params = params
        self.stdin = stdin
        self.timeoutSeconds = timeoutSeconds
    }

    enum CodingKeys: String, CodingKey { case hosts, action, params, stdin, timeoutSeconds }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        hosts = try container.decode([String].self, forKey: .hosts)
        action = try container.decode(String.self, forKey: .action)
        params = try container.decodeIfPresent([String: String].self, forKey: .params) ?? [:]
        stdin = try container.decodeIfPresent(String.self, forKey: .stdin)
        timeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .timeoutSeconds)
    }
}

/// `jobs.cancelMany`: which jobs.
public struct JobsCancelManyRequest: Codable, Sendable, Hashable {
    public var jobs: [String]

    public init(jobs: [String]) {
        self.jobs = jobs
    }
}

/// The reply to `jobs.run` and `jobs.cancel`, and the data of the `job.state` event.
public struct JobReply: Codable, Sendable, Hashable {
    public var job: JobRecord

    public init(job: JobRecord) {
        self.job = job
    }
}

/// `jobs.list`: the newest jobs, of one host or all.
public struct JobsListRequest: Codable, Sendable, Hashable {
    public var host: String?
    /// At most this many (default 50).
    public var limit: Int?

    public init(host: String? = nil, limit: Int? = nil) {
        self.host = host
        self.limit = limit
    }
}

/// The reply to `jobs.list` (newest first), `jobs.runMany` and `jobs.cancelMany` (in the order asked).
public struct JobsListReply: Codable, Sendable, Hashable {
    public var jobs: [JobRecord]

    public init(jobs: [JobRecord]) {
        self.jobs = jobs
    }
}

/// `jobs.show`, `jobs.watch`, `jobs.cancel` (operators) and `job.cancel` (to the agent): which job.
public struct JobQuery: Codable, Sendable, Hashable {
    public var job: String

    public init(job: String) {
        self.job = job
    }
}

/// The reply to `jobs.show` and `jobs.watch`: the record and the output kept.
public struct JobDetailReply: Codable, Sendable, Hashable {
    public var job: JobRecord
    public var output: [OutputChunk]

    public init(job: JobRecord, output: [OutputChunk]) {
        self.job = job
        self.output = output
    }
}

/// `jobs.stdin` (operators) and `job.stdin` (to the agent): text for the job's standard input.
public struct JobStdinRequest: Codable, Sendable, Hashable {
    public var job: String
    public var data: String
    /// Close the job's standard input after `data`.
    public var eof: Bool

    public init(job: String, data: String, eof: Bool = false) {
        self.job = job
        self.data = data
        self.eof = eof
    }

    enum CodingKeys: String, CodingKey { case job, data, eof }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        job = try container.decode(String.self, forKey: .job)
        data = try container.decodeIfPresent(String.self, forKey: .data) ?? ""
        eof = try container.decodeIfPresent(Bool.self, forKey: .eof) ?? false
    }
}

/// The reply to `cluster.stats`.
public struct ClusterStatsReply: Codable, Sendable, Hashable {
    public var gateways: Int
    public var workers: Int
    /// Connected clients of every kind.
    public var clients: Int
    public var agentsOnline: Int
    /// Hosts known, online or not.
    public var hosts: Int

    public init(gateways: Int, workers: Int, clients: Int, agentsOnline: Int, hosts: Int) {
        self.gateways = gateways
        self.workers = workers
        self.clients = clients
        self.agentsOnline = agentsOnline
        self.hosts = hosts
    }
}

/// `timers.add`: register on `host`'s agent a timer that runs `action` every `everySeconds`
/// (replacing a timer of the same name).
public struct TimersAddRequest: Codable, Sendable, Hashable {
    public var host: String
    public var name: String
    public var action: String
    public var params: [String: String]
    public var everySeconds: Int

    public init(host: String, name: String, action: String, params: [String: String] = [:], everySeconds: Int) {
        self.host = host
        self.name = name
        self.action = action
        self.params = params
        self.everySeconds = everySeconds
    }

    enum CodingKeys: String, CodingKey { case host, name, action, params, everySeconds }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        host = try container.decode(String.self, forKey: .host)
        name = try container.decode(String.self, forKey: .name)
        action = try container.decode(String.self, forKey: .action)
        params = try container.decodeIfPresent([String: String].self, forKey: .params) ?? [:]
        everySeconds = try container.decode(Int.self, forKey: .everySeconds)
    }

    /// The timer as the agent gets it.
    public var timer: TimerSpec { TimerSpec(name: name, action: action, params: params, everySeconds: everySeconds) }
}

/// `timers.remove`: which timer of which host.
public struct TimersRemoveRequest: Codable, Sendable, Hashable {
    public var host: String
    public var name: String

    public init(host: String, name: String) {
        self.host = host
        self.name = name
    }
}
