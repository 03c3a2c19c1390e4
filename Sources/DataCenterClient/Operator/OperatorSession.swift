import DataCenterProtocol

/// The operations of an operator or service, typed: hosts, jobs (run one and follow its output, list,
/// show, cancel, stdin) and the timers on hosts' agents. Each call is one request of the envelope
/// (Documentation.docc/Envelope.md); a refusal throws its `ProtocolError` (`not_found`, `forbidden`,
/// `bad_request`, `not_online`, `timeout` …). The session outlives a lost connection
/// (``OperatorConnection``): a call in flight at the loss throws ``DataCenterSession/Closed``, later
/// calls go out on the next connection, and followed jobs go on where they stopped.
public struct OperatorSession: Sendable {
    /// The token's name and role, as the central side authenticated it.
    public let identity: OperatorAuthReply
    /// The connection (across reconnects), for what has no typed call here.
    public let connection: OperatorConnection
    private let router: JobEventRouter

    init(identity: OperatorAuthReply, connection: OperatorConnection, router: JobEventRouter) {
        self.identity = identity
        self.connection = connection
        self.router = router
    }

    // MARK: - Hosts

    /// Every host with its latest figures.
    public func hosts() async throws -> [HostSummary] {
        try await connection.request(.hostsList, EmptyPayload()).payload(HostsListReply.self).hosts
    }

    /// One host's latest state.
    public func host(_ name: String) async throws -> HostState {
        try await connection.request(.hostsShow, HostQuery(host: name)).payload(HostsShowReply.self).host
    }

    /// The actions that `host`'s agent allows.
    public func actions(host: String) async throws -> [ActionSpec] {
        try await connection.request(.actionsList, HostQuery(host: host)).payload(ActionsListReply.self).actions
    }

    // MARK: - Jobs

    /// Queues `action` on `host` and follows it: iterate the result for its output, then its final record.
    /// - Parameters:
    ///   - parameters: the action's typed parameters, checked against the host's allow-list.
    ///   - stdin: written to the job's standard input, which is then closed.
    ///   - timeoutSeconds: nil takes the action's timeout.
    public func runJob(
        host: String, action: String, parameters: [String: String] = [:], stdin: String? = nil, timeoutSeconds: Int? = nil
    ) async throws -> JobRun {
        router.beginCapture()
        defer { router.endCapture() }
        let job = try await queueJob(host: host, action: action, parameters: parameters, stdin: stdin, timeoutSeconds: timeoutSeconds)
        return JobRun(job: job, output: [], updates: router.follow(job.id), connection: connection)
    }

    /// Queues `action` on `host` without following it; returns the job as queued.
    public func queueJob(
        host: String, action: String, parameters: [String: String] = [:], stdin: String? = nil, timeoutSeconds: Int? = nil
    ) async throws -> JobRecord {
        let request = JobsRunRequest(host: host, action: action, params: parameters, stdin: stdin, timeoutSeconds: timeoutSeconds)
        return try await connection.request(.jobsRun, request).payload(JobReply.self).job
    }

    /// Follows a job queued earlier (by anyone): its output from the first chunk kept, then its final record.
    public func watch(job: String) async throws -> JobRun {
        // Following first: no event between the snapshot and the subscription is missed (duplicates are dropped).
        let updates = router.follow(job)
        let snapshot: JobDetailReply
        do {
            snapshot = try await connection.request(.jobsWatch, JobQuery(job: job)).payload(JobDetailReply.self)
        } catch {
            router.stopFollowing(job)
            throw error
        }
        if snapshot.job.state.isFinal { router.stopFollowing(job) }
        return JobRun(job: snapshot.job, output: snapshot.output, updates: updates, connection: connection)
    }

    /// The newest jobs, of one host or all, newest first.
    public func jobs(host: String? = nil, limit: Int? = nil) async throws -> [JobRecord] {
        try await connection.request(.jobsList, JobsListRequest(host: host, limit: limit)).payload(JobsListReply.self).jobs
    }

    /// One job's record and the output kept of it.
    public func job(_ id: String) async throws -> JobDetailReply {
        try await connection.request(.jobsShow, JobQuery(job: id)).payload(JobDetailReply.self)
    }

    /// Cancels a job: a queued one at once; a running one is ended by its agent (its final state
    /// follows). `conflict` when it has ended already.
    @discardableResult
    public func cancel(job: String) async throws -> JobRecord {
        try await connection.request(.jobsCancel, JobQuery(job: job)).payload(JobReply.self).job
    }

    /// Writes `data` to a running job's standard input, closing it after when `eof`.
    public func sendStdin(job: String, _ data: String, eof: Bool = false) async throws {
        try await connection.request(.jobsStdin, JobStdinRequest(job: job, data: data, eof: eof))
    }

    /// The ids of the jobs running on `host`'s agent now, as the agent says.
    public func runningJobs(host: String) async throws -> [String] {
        try await connection.request(.jobsRunning, HostQuery(host: host)).payload(RunningJobsReply.self).jobs
    }

    // MARK: - Timers on agents

    /// The timers registered on `host`'s agent; for an offline host, the ones it last stated with the
    /// changes queued for it applied (``HostTimersReply/pending`` lists those).
    public func timers(host: String) async throws -> HostTimersReply {
        try await connection.request(.timersList, HostQuery(host: host)).payload(HostTimersReply.self)
    }

    /// Adds (or replaces) a timer that runs `action` on `host` every `everySeconds`; returns the host's
    /// timers. For an offline host the change is queued (``HostTimersReply/queued``) and applied when its agent connects.
    @discardableResult
    public func addTimer(host: String, name: String, action: String, parameters: [String: String] = [:], everySeconds: Int) async throws
        -> HostTimersReply
    {
        let request = TimersAddRequest(host: host, name: name, action: action, params: parameters, everySeconds: everySeconds)
        return try await connection.request(.timersAdd, request).payload(HostTimersReply.self)
    }

    /// Removes a timer from `host` (queued when the host is offline, like ``addTimer(host:name:action:parameters:everySeconds:)``); returns the host's timers.
    @discardableResult
    public func removeTimer(host: String, name: String) async throws -> HostTimersReply {
        try await connection.request(.timersRemove, TimersRemoveRequest(host: host, name: name)).payload(HostTimersReply.self)
    }
}
