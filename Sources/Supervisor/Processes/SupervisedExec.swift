import CSupervisor
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What every child runs first (`datacentered supervised-exec`): arrange to die with the supervisor,
/// then become the real program. The pid stays the same, so the supervisor sees the real program.
///
/// `PR_SET_PDEATHSIG` survives `exec`, but a change of user clears it: so the user is changed
/// here, before, and memcached is started without its own `-u`. Even a supervisor killed with
/// SIGKILL leaves no child behind: each gets SIGTERM and stops as it would for `datacentered stop`.
public enum SupervisedExec {
    /// Does not return: replaces this process with `command`, or exits with 126 / 127 on failure.
    /// - Parameters:
    ///   - parent: the supervisor's pid; if it is already gone, exit at once.
    ///   - user: run as this user (names the supervisor's own when nil).
    ///   - command: the program (looked up in `PATH`) and its arguments.
    public static func exec(parent: pid_t, user: String?, command: [String]) -> Never {
        if let user {
            guard let entry = getpwnam(user) else { fail(126, "no user named \(user)") }
            let gid = entry.pointee.pw_gid
            guard initgroups(user, gid) == 0, setgid(gid) == 0, setuid(entry.pointee.pw_uid) == 0 else {
                fail(126, "cannot become user \(user): \(String(cString: strerror(errno)))")
            }
        }
        // This runs on a Swift concurrency thread, which blocks most signals: the program must not
        // inherit that mask (a blocked SIGTERM would never stop it), nor ignored signals.
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD, SIGALRM] { Glibc.signal(signal, SIG_DFL) }
        // Listening sockets of the supervisor (control, metrics) are not close-on-exec.
        csupervisor_close_descriptors_from(3)
        _ = csupervisor_set_parent_death_signal(SIGTERM)
        if getppid() != parent { exit(0) }
        let argv = command.map { strdup($0) } + [nil]
        execvp(command[0], argv)
        fail(127, "cannot run \(command[0]): \(String(cString: strerror(errno)))")
    }

    private static func fail(_ code: Int32, _ message: String) -> Never {
        FileHandle.standardError.write(Data("supervised-exec[\(getpid())] error: \(message)\n".utf8))
        exit(code)
    }
}
