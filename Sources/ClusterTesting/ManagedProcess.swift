import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process for tests: output captured to a log file, bounded waits, and never leaked —
/// it is killed when the object goes away if nobody stopped it.
public final class ManagedProcess: @unchecked Sendable {
    /// Why a wait on a process failed; the description carries the end of its log.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong, with the tail of the log.
        public var description: String
    }

    /// The program that runs.
    public let executable: String
    /// Its arguments.
    public let arguments: [String]
    /// Where its stdout and stderr go (appended).
    public let logPath: String

    private let lock = NSLock()
    private var process: Process?
    private let environment: [String: String]
    private var logHandle: FileHandle?

    /// Starts `executable` with `arguments`, the current environment plus `environment`.
    /// - Parameter logPath: where output goes; by default a new file in a fresh temporary directory.
    public init(
        executable: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        logPath: String? = nil
    ) throws {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        if let logPath {
            self.logPath = logPath
        } else {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("managed-process-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let name = URL(fileURLWithPath: executable).lastPathComponent
            self.logPath = directory.appendingPathComponent("\(name).log").path
        }
        try start()
    }

    /// Starts the process again after it stopped, appending to the same log.
    public func start() throws {
        lock.lock()
        defer { lock.unlock() }
        if let process, process.isRunning { return }
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw Failure(description: "cannot open log file \(logPath)")
        }
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do {
            try withSignalsUnblocked { try process.run() }
        } catch {
            try? log.close()
            throw Failure(description: "cannot start \(executable): \(error)")
        }
        try? logHandle?.close()
        self.logHandle = log
        self.process = process
    }

    deinit {
        if let process, process.isRunning {
            posixKill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? logHandle?.close()
    }

    /// The process id, while it has been started.
    public var pid: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return process?.processIdentifier
    }

    /// True while the process runs.
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return process?.isRunning ?? false
    }

    /// The whole log so far.
    public var output: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The last `lines` lines of the log.
    public func logTail(lines: Int = 30) -> String {
        output.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Waits until the log contains `text` (at least `times` times).
    /// - Throws: ``Failure`` with the log tail after `timeout`, or as soon as the process exits.
    public func waitForOutput(containing text: String, times: Int = 1, timeout: Duration = .seconds(10)) throws {
        let what = times == 1 ? "output containing \"\(text)\"" : "output containing \"\(text)\" \(times) times"
        try poll(timeout: timeout, what: what) { self.output.components(separatedBy: text).count > times }
    }

    /// Waits until `host:port` accepts TCP connections.
    /// - Throws: ``Failure`` with the log tail after `timeout`, or as soon as the process exits.
    public func waitForPort(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(10)) throws {
        try poll(timeout: timeout, what: "\(host):\(port) to accept connections") {
            tcpPortAnswers(host: host, port: port)
        }
    }

    /// Waits until the process exits by itself and returns its exit status.
    /// - Throws: ``Failure`` with the log tail if it still runs after `timeout`.
    public func waitForExit(timeout: Duration = .seconds(10)) throws -> Int32 {
        guard let process = lock.withLock({ self.process }) else {
            throw Failure(description: "\(executable) was never started")
        }
        guard waitForExit(process, timeout: timeout) else {
            throw Failure(description: "\(executable) still runs after \(timeout); log \(logPath):\n\(logTail())")
        }
        return process.terminationStatus
    }

    /// Sends SIGTERM, waits up to `timeout` for the exit, then sends SIGKILL.
    public func terminate(timeout: Duration = .seconds(5)) {
        guard let process = runningProcess() else { return }
        process.terminate()
        if waitForExit(process, timeout: timeout) { return }
        posixKill(process.processIdentifier, SIGKILL)
        _ = waitForExit(process, timeout: .seconds(5))
    }

    /// Sends SIGKILL and waits (bounded) for the exit.
    public func kill() {
        guard let process = runningProcess() else { return }
        posixKill(process.processIdentifier, SIGKILL)
        _ = waitForExit(process, timeout: .seconds(5))
    }

    /// Sends `signal` (SIGSTOP, SIGCONT, SIGHUP, ...) without waiting.
    public func send(signal: Int32) {
        guard let process = runningProcess() else { return }
        posixKill(process.processIdentifier, signal)
    }

    /// Freezes the process (SIGSTOP) and returns once the kernel reports every thread stopped: the
    /// signal itself is asynchronous, and a process on the other core may still answer a request sent
    /// right after it.
    public func freeze(timeout: Duration = .seconds(5)) throws {
        guard let pid = runningProcess()?.processIdentifier else { return }
        posixKill(pid, SIGSTOP)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            let stopped = tasks.allSatisfy { task in
                // The state is the field after the parenthesised command name.
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { return false }
                return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first == "T"
            }
            if !tasks.isEmpty, stopped { return }
            Thread.sleep(forTimeInterval: 0.005)
        }
        throw Failure(description: "\(executable) did not stop within \(timeout)")
    }

    /// Lets a frozen process run again (SIGCONT).
    public func thaw() {
        send(signal: SIGCONT)
    }

    private func runningProcess() -> Process? {
        lock.lock()
        defer { lock.unlock() }
        guard let process, process.isRunning else { return nil }
        return process
    }

    private func waitForExit(_ process: Process, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return true
    }

    private func poll(timeout: Duration, what: String, _ done: () -> Bool) throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if done() { return }
            if !isRunning {
                throw Failure(description: "\(executable) exited while waiting for \(what); log \(logPath):\n\(logTail())")
            }
            if ContinuousClock.now >= deadline {
                throw Failure(description: "timed out after \(timeout) waiting for \(what) from \(executable); log \(logPath):\n\(logTail())")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}

/// `kill(2)`; the method named `kill()` hides the C function inside the class.
private func posixKill(_ pid: pid_t, _ signal: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, signal)
    #elseif canImport(Darwin)
    _ = Darwin.kill(pid, signal)
    #endif
}
