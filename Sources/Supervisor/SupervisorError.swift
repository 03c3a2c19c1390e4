/// Why the supervisor or one of its commands could not do what was asked.
public enum SupervisorError: Error, Equatable, CustomStringConvertible {
    case spawnFailed(command: String, reason: String)
    case alreadyRunning(pid: Int32?, pidFile: String)
    case notRunning(pidFile: String)
    case runDirectory(path: String, reason: String)
    case controlFailed(reason: String)
    case childNotReady(name: String, reason: String)
    case tokenIssuing(reason: String)
    case notifyFailed(socket: String, reason: String)

    public var description: String {
        switch self {
        case .spawnFailed(let command, let reason): return "cannot start \(command): \(reason)"
        case .alreadyRunning(let pid, let pidFile):
            return "a cluster is already running\(pid.map { " (pid \($0))" } ?? "") with this run directory (\(pidFile)); stop it first with `datacentered stop`"
        case .notRunning(let pidFile): return "no cluster is running (no pid file at \(pidFile))"
        case .runDirectory(let path, let reason): return "cannot use the run directory \(path): \(reason)"
        case .controlFailed(let reason): return reason
        case .childNotReady(let name, let reason): return "\(name) did not start: \(reason)"
        case .tokenIssuing(let reason): return "cannot issue the tokens of supervisor.issueTokens: \(reason)"
        case .notifyFailed(let socket, let reason): return "cannot notify systemd on NOTIFY_SOCKET=\(socket): \(reason)"
        }
    }
}
