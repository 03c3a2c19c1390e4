import DataCenterProtocol

/// The central handler's settings; every field has a default, so `init()` works.
public struct DataCenterConfiguration: Sendable {
    /// The token file (hashes of host, operator and service tokens); re-read whenever it changes.
    public var tokenFile = "/etc/datacentered/tokens.json"
    /// The report periods sent to agents when they authenticate.
    public var reportPeriods = ReportPeriods(hostInfo: 60, cpu: 10, bandwidth: 10, vps: 60)
    /// How often the cluster-wide sweeps run (offline hosts, overdue jobs, queued jobs of online hosts).
    public var sweepInterval: Duration = .seconds(5)
    /// How long after its timeout a running job whose agent said nothing is ended (`lost` or `timed_out`).
    public var jobGraceSeconds = 30
    /// The timeout of a job whose `jobs.run` names none.
    public var defaultJobTimeoutSeconds = 300
    /// The longest timeout a job may ask for.
    public var maximumJobTimeoutSeconds = 86_400
    /// How long an operator's request sent on to an agent (`timers.*`, `jobs.running`) waits for the
    /// agent's reply before the sweep answers it `timeout` (it may wait up to one `sweepInterval` more).
    public var relayTimeoutSeconds = 10.0
    /// How long a timer change asked for an offline host waits for its agent before it is dropped
    /// (seconds, at most 30 days): a host that never comes back keeps nothing.
    public var timerChangeExpirySeconds = 7 * 24 * 3600
    /// Output bytes kept per job (the newest); memcached's item size limit (1 MiB by default) bounds it.
    public var outputLimitBytes = 512 * 1024

    public init() {}
}
