import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts child processes from one thread that lives as long as the supervisor.
///
/// A child asks the kernel to kill it when its parent goes (`PR_SET_PDEATHSIG`, see
/// ``SupervisedExec``), and Linux counts the parent as the *thread* that spawned it: spawning from
/// a pool thread that later exits would kill healthy children. Every child starts with no signal
/// blocked or ignored (the supervisor's own dispositions are not inherited), in its own process
/// group (a Ctrl-C on the terminal reaches the supervisor only, which stops the children in order),
/// with standard input from /dev/null and its output into a pipe (or a given file).
final class ProcessSpawner: @unchecked Sendable {
    private struct Request {
        var command: [String]
        var environment: [String: String]
        var output: Output
        var newSession: Bool
        var continuation: CheckedContinuation<Spawned, any Error>
    }

    /// Where a child's standard output and error go.
    enum Output {
        /// A new pipe; the supervisor gets its reading end.
        case pipe
        /// An open file.
        case file(CInt)
    }

    /// A started child.
    struct Spawned {
        var pid: pid_t
        /// The reading end of its output pipe (close-on-exec), when ``Output/pipe`` was asked for.
        var output: CInt?
    }

    private let condition = NSCondition()
    private var requests: [Request] = []

    init() {
        let thread = Thread { [unowned self] in self.serve() }
        thread.name = "datacentered-spawner"
        thread.start()
    }

    /// Starts `command` (`command[0]` an absolute path).
    /// - Parameter newSession: start it in a session of its own (a daemon) rather than a process group of its own.
    func spawn(_ command: [String], environment: [String: String], output: Output, newSession: Bool = false) async throws -> Spawned {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            requests.append(Request(command: command, environment: environment, output: output, newSession: newSession, continuation: continuation))
            condition.signal()
            condition.unlock()
        }
    }

    private func serve() {
        while true {
            condition.lock()
            while requests.isEmpty { condition.wait() }
            let request = requests.removeFirst()
            condition.unlock()
            do {
                request.continuation.resume(returning: try Self.spawn(request))
            } catch {
                request.continuation.resume(throwing: error)
            }
        }
    }

    /// Pipes are made here, on the only thread that spawns, so no other child can inherit one
    /// between its creation and its close-on-exec flag.
    private static func spawn(_ request: Request) throws -> Spawned {
        switch request.output {
        case .file(let descriptor):
            return Spawned(pid: try posixSpawn(request.command, request.environment, descriptor, request.newSession), output: nil)
        case .pipe:
            var ends: [CInt] = [0, 0]
            guard pipe(&ends) == 0 else { throw SupervisorError.spawnFailed(command: request.command[0], reason: String(cString: strerror(errno))) }
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
            defer { close(ends[1]) }
            do {
                return Spawned(pid: try posixSpawn(request.command, request.environment, ends[1], request.newSession), output: ends[0])
            } catch {
                close(ends[0])
                throw error
            }
        }
    }

    /// glibc's POSIX_SPAWN_SETSID, which Swift does not import.
    private static let spawnSetSession: CInt = 0x80

    private static func posixSpawn(_ command: [String], _ environment: [String: String], _ output: CInt, _ newSession: Bool) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGQUIT, SIGCHLD, SIGALRM] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        let grouping = newSession ? spawnSetSession : CInt(POSIX_SPAWN_SETPGROUP)
        posix_spawnattr_setflags(&attributes, Int16(CInt(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | grouping))

        let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        let argv = command.map { strdup($0) } + [nil]
        let envp = variables.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw SupervisorError.spawnFailed(command: command[0], reason: String(cString: strerror(result)))
        }
        return pid
    }
}
