import ArgumentParser
import DataCenter
import DataCenterProtocol

/// The worker flags of the datacenter handler (`--handler datacenter`).
struct DataCenterOptions: ParsableArguments {
    @Option(help: "The token file of the datacenter handler (hashes only; made by `datacentered token`); re-read when it changes.")
    var tokens = DataCenterConfiguration().tokenFile

    @Option(help: "Seconds between two cluster-wide sweeps of the datacenter handler (offline hosts, overdue jobs).")
    var sweepInterval = 5.0

    @Option(help: "Seconds after its timeout that a silent running job is ended (lost or timed_out).")
    var jobGrace = DataCenterConfiguration().jobGraceSeconds

    @Option(help: "Seconds an operator's request sent on to a connected agent (timers, running jobs) waits for its answer before it gets 'timeout'.")
    var relayTimeout = DataCenterConfiguration().relayTimeoutSeconds

    @Option(help: "Seconds a timer change asked for an offline host waits for its agent before it is dropped (at most 30 days).")
    var timerChangeExpiry = DataCenterConfiguration().timerChangeExpirySeconds

    @Option(help: "Output bytes kept per job (the newest).")
    var jobOutputLimit = DataCenterConfiguration().outputLimitBytes

    @Option(help: "Report periods asked of the agents, seconds: hostInfo,cpu,bandwidth,vps (default 60,10,10,60).")
    var reportPeriods: String?

    func validate() throws {
        if let reportPeriods {
            let periods = reportPeriods.split(separator: ",").compactMap { Double($0) }
            guard periods.count == 4, periods.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--report-periods must be four positive numbers: hostInfo,cpu,bandwidth,vps")
            }
        }
        guard sweepInterval >= 0.1 else { throw ValidationError("--sweep-interval must be at least 0.1 seconds") }
        guard relayTimeout > 0 else { throw ValidationError("--relay-timeout must be positive") }
        guard (1...(30 * 24 * 3600)).contains(timerChangeExpiry) else {
            throw ValidationError("--timer-change-expiry must be 1 second to 30 days")
        }
        guard jobGrace >= 0 else { throw ValidationError("--job-grace must not be negative") }
        guard (1024...(900 * 1024)).contains(jobOutputLimit) else {
            throw ValidationError("--job-output-limit must be 1 KiB to 900 KiB (one memcached item)")
        }
    }

    var configuration: DataCenterConfiguration {
        var configuration = DataCenterConfiguration()
        configuration.tokenFile = tokens
        configuration.sweepInterval = .milliseconds(Int64(sweepInterval * 1000))
        configuration.jobGraceSeconds = jobGrace
        configuration.relayTimeoutSeconds = relayTimeout
        configuration.timerChangeExpirySeconds = timerChangeExpiry
        configuration.outputLimitBytes = jobOutputLimit
        if let periods = reportPeriods?.split(separator: ",").compactMap({ Double($0) }), periods.count == 4 {
            configuration.reportPeriods = ReportPeriods(hostInfo: periods[0], cpu: periods[1], bandwidth: periods[2], vps: periods[3])
        }
        return configuration
    }
}
