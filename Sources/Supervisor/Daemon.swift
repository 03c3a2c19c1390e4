import CSupervisor
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `datacentered start -d`: runs the supervisor again as a detached process (its own session,
/// output to the log file) and returns once it answers on its control socket, or fails with the
/// end of its log when it does not come up, once every child has started. Spawning a fresh process instead of `fork()`ing this
/// one keeps the threads of the Swift runtime out of the picture.
public enum Daemon {
    /// Starts `command` detached and waits until the run directory names a running supervisor.
    /// - Returns: the daemon's pid.
    public static func launch(_ command: [String], logFile: String, runDirectory: RunDirectory, timeout: Duration = .seconds(90)) async throws -> pid_t {
        // Whatever started this command may wait for the end of a descriptor it gave it (a test
        // runner, a pipe): the daemon must hold none of them.
        csupervisor_close_descriptors_on_exec_from(3)
        let descriptor = open(logFile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw SupervisorError.runDirectory(path: logFile, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        let pid = try await ProcessSpawner().spawn(command, environment: [:], output: .file(descriptor), newSession: true).pid
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var status: CInt = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw SupervisorError.childNotReady(name: "the daemon", reason: "it ended (\(ExitStatus(waitStatus: status))); see \(logFile):\n\(tail(of: logFile))")
            }
            if (try? runDirectory.runningPID()) == pid,
               (try? await ControlClient.send("status", runDirectory: runDirectory, timeout: .seconds(5)))?.status?.isStarted == true
            {
                return pid
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SupervisorError.childNotReady(name: "the daemon", reason: "not answering after \(timeout); see \(logFile)")
    }

    private static func tail(of path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }
}
