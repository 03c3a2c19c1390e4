import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's run directory: `datacentered.pid`, the `datacentered.lock` it holds while it
/// runs, and the control socket `datacentered.sock`.
///
/// The lock is an `flock` on an open file: the kernel drops it when the supervisor ends, however
/// it ends, so a crashed supervisor never leaves a cluster that cannot start. A pid file left
/// behind by one is stale and simply replaced.
public struct RunDirectory: Sendable {
    public let path: String
    public var pidFile: String { path + "/datacentered.pid" }
    public var lockFile: String { path + "/datacentered.lock" }
    public var controlSocket: String { path + "/datacentered.sock" }

    public init(path: String) {
        self.path = path
    }

    /// Takes the lock and writes the pid file, or throws ``SupervisorError/alreadyRunning(pid:pidFile:)``.
    /// The returned descriptor holds the lock; it is closed on exec, so children never hold it.
    public func acquire() throws -> CInt {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw SupervisorError.runDirectory(path: path, reason: error.localizedDescription)
        }
        let descriptor = open(lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SupervisorError.runDirectory(path: lockFile, reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw SupervisorError.alreadyRunning(pid: recordedPID(), pidFile: pidFile)
        }
        try writePIDFile()
        return descriptor
    }

    /// Writes this process's pid (again: a daemon's pid changes when it detaches).
    public func writePIDFile() throws {
        do {
            try "\(getpid())\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        } catch {
            throw SupervisorError.runDirectory(path: pidFile, reason: error.localizedDescription)
        }
    }

    /// Removes the pid file and the socket (the lock goes with the process).
    public func clear() {
        unlink(pidFile)
        unlink(controlSocket)
    }

    /// The pid in the pid file, if any.
    public func recordedPID() -> pid_t? {
        (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The running supervisor's pid, or ``SupervisorError/notRunning(pidFile:)`` when there is none
    /// (no pid file, or one left by a supervisor that is gone: nobody holds the lock).
    public func runningPID() throws -> pid_t {
        guard let pid = recordedPID() else { throw SupervisorError.notRunning(pidFile: pidFile) }
        let descriptor = open(lockFile, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SupervisorError.notRunning(pidFile: pidFile) }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            throw SupervisorError.controlFailed(
                reason: "no cluster is running (the pid file at \(pidFile) names pid \(pid), which is gone; it is stale and the next start replaces it)"
            )
        }
        return pid
    }
}
