import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real memcached on loopback and a free port, for tests. Can be stopped and started again on the same port.
public final class MemcachedServer: @unchecked Sendable {
    /// The port it listens on.
    public let port: Int
    /// `127.0.0.1:port`, as a `MemcachedConfiguration` server entry.
    public var address: String { "127.0.0.1:\(port)" }

    private let process: ManagedProcess

    /// Starts memcached (from PATH or /usr/bin) and waits until it accepts connections.
    public init(port: Int = freeTCPPort(), memoryMegabytes: Int = 64) throws {
        self.port = port
        var arguments = ["-l", "127.0.0.1", "-p", "\(port)", "-U", "0", "-m", "\(memoryMegabytes)"]
        // memcached refuses to run as root unless told which user to be.
        if geteuid() == 0 { arguments += ["-u", "root"] }
        process = try ManagedProcess(executable: try Self.findExecutable(), arguments: arguments)
        try waitUntilReady()
    }

    /// True while memcached runs.
    public var isRunning: Bool { process.isRunning }

    /// The memcached log file.
    public var logPath: String { process.logPath }

    /// Stops memcached at once (SIGKILL), as a crash or an outage looks to clients. Nothing is lost that a
    /// graceful stop would keep: memcached holds everything in memory.
    public func stop() {
        process.kill()
    }

    /// Starts memcached again on the same port (empty, as after a real restart).
    public func start() throws {
        try process.start()
        try waitUntilReady()
    }

    /// Freezes memcached (SIGSTOP): it still accepts connections but never answers.
    public func suspend() throws { try process.freeze() }

    /// Lets a suspended memcached run again (SIGCONT).
    public func resume() { process.thaw() }

    deinit {
        process.send(signal: SIGCONT)
        process.kill()
    }

    private func waitUntilReady() throws {
        try process.waitForPort(host: "127.0.0.1", port: port, timeout: .seconds(10))
    }

    private static func findExecutable() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/memcached" } + ["/usr/bin/memcached", "/usr/local/bin/memcached"]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ManagedProcess.Failure(description: "memcached not found in PATH or /usr/bin; install the memcached package")
        }
        return found
    }
}
