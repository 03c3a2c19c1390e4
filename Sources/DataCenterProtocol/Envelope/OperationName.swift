/// Every request operation of envelope version 1 (`namespace.verb`).
public enum OperationName: String, Sendable, Hashable, Codable, CaseIterable {
    // Authentication: the first request on every connection.
    case authAgent = "auth.agent"
    case authOperator = "auth.operator"

    // Operators and services → central side.
    case hostsList = "hosts.list"
    case hostsShow = "hosts.show"
    case actionsList = "actions.list"
    case jobsRun = "jobs.run"
    case jobsRunMany = "jobs.runMany"
    case jobsList = "jobs.list"
    case jobsShow = "jobs.show"
    case jobsWatch = "jobs.watch"
    case jobsCancel = "jobs.cancel"
    case jobsCancelMany = "jobs.cancelMany"
    case jobsStdin = "jobs.stdin"
    case timersList = "timers.list"
    case timersAdd = "timers.add"
    case timersRemove = "timers.remove"
    case clusterStats = "cluster.stats"

    // Central side → agent.
    case jobStart = "job.start"
    case jobCancel = "job.cancel"
    case jobStdin = "job.stdin"
    /// Also operators → central side (with a `host`), answered by that host's agent.
    case jobsRunning = "jobs.running"
    case timerAdd = "timer.add"
    case timerRemove = "timer.remove"
    case timerList = "timer.list"

    // Agent → central side (acknowledged, so the agent can resend until they are).
    case jobOutput = "job.output"
    case jobFinished = "job.finished"
}

/// Every event name of envelope version 1: unsolicited, never answered.
public enum EventName: String, Sendable, Hashable, Codable, CaseIterable {
    // Central side → operators.
    case hostOnline = "host.online"
    case hostOffline = "host.offline"
    case hostChanged = "host.changed"
    case jobState = "job.state"
    case jobOutput = "job.output"

    // Agent → central side.
    case reportHostInfo = "report.hostInfo"
    case reportCPU = "report.cpu"
    case reportBandwidth = "report.bandwidth"
    case reportVPS = "report.vps"
}
