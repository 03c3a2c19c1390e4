import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Collects every child that ends (`waitpid`) on a thread of its own and reports how it ended.
/// The supervisor is the only part of its process that starts children, so waiting for any child is safe.
final class ChildReaper: @unchecked Sendable {
    private let condition = NSCondition()
    /// Children started so far: a wait that found no child sleeps until this changes.
    private var started = 0
    private let onExit: @Sendable (pid_t, ExitStatus) -> Void

    init(onExit: @escaping @Sendable (pid_t, ExitStatus) -> Void) {
        self.onExit = onExit
        let thread = Thread { [unowned self] in self.reap() }
        thread.name = "datacentered-reaper"
        thread.start()
    }

    /// Wakes the reaper after a child was started.
    func childStarted() {
        condition.lock()
        started += 1
        condition.signal()
        condition.unlock()
    }

    private func reap() {
        while true {
            condition.lock()
            let seen = started
            condition.unlock()
            var status: CInt = 0
            let pid = waitpid(-1, &status, 0)
            if pid > 0 {
                onExit(pid, ExitStatus(waitStatus: status))
            } else if errno == ECHILD {
                condition.lock()
                while started == seen { condition.wait() }
                condition.unlock()
            }
        }
    }
}

/// How a child process ended.
public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    init(waitStatus: CInt) {
        let signal = waitStatus & 0x7f
        self = signal == 0 ? .exited((waitStatus >> 8) & 0xff) : .signalled(signal)
    }

    public var description: String {
        switch self {
        case .exited(let code): return "exit \(code)"
        case .signalled(let signal):
            let name = [SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGILL: "SIGILL",
                        SIGTRAP: "SIGTRAP", SIGBUS: "SIGBUS", SIGPIPE: "SIGPIPE", SIGHUP: "SIGHUP"][signal]
            return name ?? "signal \(signal)"
        }
    }
}
