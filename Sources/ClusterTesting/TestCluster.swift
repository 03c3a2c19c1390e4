import Foundation

/// A cluster of real processes for end-to-end tests: a memcached on a free loopback port, and
/// gateways and workers started from the built `datacentered` binary, each with its own log.
/// ``stopAll()`` (or deinit) stops every process it started.
public final class TestCluster: @unchecked Sendable {
    /// A running gateway and the ports it serves.
    public struct Gateway: Sendable {
        public let process: ManagedProcess
        /// Where clients connect with plain WebSocket (nothing listens there when it was started without).
        public let publicPort: Int
        /// Where workers link; the registered address is `127.0.0.1:lanPort`.
        public let lanPort: Int

        public var lanAddress: String { "127.0.0.1:\(lanPort)" }
    }

    public let memcached: MemcachedServer
    public let secretKey: String
    private let lock = NSLock()
    private var processes: [ManagedProcess] = []

    public init(secretKey: String = "test-secret-\(UUID().uuidString.prefix(8))") throws {
        self.memcached = try MemcachedServer()
        self.secretKey = secretKey
    }

    deinit {
        stopAll()
    }

    /// The `datacentered` binary next to the test bundle (or `DATACENTERED_BIN`).
    public static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["DATACENTERED_BIN"] { return path }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("datacentered").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return ".build/debug/datacentered"
    }

    /// Starts a gateway on free ports and waits until it is ready and registered.
    /// - Parameters:
    ///   - plainWebSocket: false starts no ws listener (for a wss-only gateway, whose
    ///     `--listen-tls` goes in `extraArguments`).
    ///   - environment: more variables for the gateway process.
    @discardableResult
    public func startGateway(
        secretKey: String? = nil,
        eventLoops: Int = 1,
        extraArguments: [String] = [],
        plainWebSocket: Bool = true,
        environment: [String: String] = [:],
        timeout: Duration = .seconds(20)
    ) throws -> Gateway {
        let publicPort = freeTCPPort()
        let lanPort = freeTCPPort()
        let listen = plainWebSocket ? ["--listen", "127.0.0.1:\(publicPort)"] : []
        let process = try launch(
            role: "gateway",
            arguments: listen + ["--lan-ip", "127.0.0.1", "--lan-port", "\(lanPort)", "--event-loops", "\(eventLoops)"]
                + extraArguments,
            secretKey: secretKey,
            environment: environment
        )
        try process.waitForOutput(containing: "gateway ready", timeout: timeout)
        try process.waitForOutput(containing: "gateway registered in memcached", timeout: timeout)
        return Gateway(process: process, publicPort: publicPort, lanPort: lanPort)
    }

    /// Starts a worker (with the echo handler unless told otherwise) and waits until it runs.
    @discardableResult
    public func startWorker(
        name: String = "echo",
        handler: String = "echo",
        secretKey: String? = nil,
        extraArguments: [String] = [],
        timeout: Duration = .seconds(20)
    ) throws -> ManagedProcess {
        let process = try launch(role: "worker", arguments: ["--name", name, "--handler", handler] + extraArguments, secretKey: secretKey)
        try process.waitForOutput(containing: "worker starting", timeout: timeout)
        return process
    }

    /// Waits until `worker` has logged a link to `gateway`, and with `eventLoops` (the gateway's
    /// count) above 1, a lane link to each of its other loops too.
    public func waitUntilLinked(_ worker: ManagedProcess, to gateway: Gateway, eventLoops: Int = 1, timeout: Duration = .seconds(10)) throws {
        try worker.waitForOutput(containing: "linked to gateway \(gateway.lanAddress)", timeout: timeout)
        for lane in 1..<max(1, eventLoops) {
            try worker.waitForOutput(containing: "linked to gateway \(gateway.lanAddress) on its event loop \(lane) ", timeout: timeout)
        }
    }

    /// Stops every process this cluster started, memcached last.
    public func stopAll() {
        let started = lock.withLock {
            defer { processes.removeAll() }
            return processes
        }
        for process in started.reversed() { process.terminate() }
        memcached.stop()
    }

    private func launch(role: String, arguments: [String], secretKey: String?, environment: [String: String] = [:]) throws -> ManagedProcess {
        let process = try ManagedProcess(
            executable: Self.binaryPath,
            arguments: [role, "--memcached", memcached.address, "--log-level", "debug"] + arguments,
            environment: environment.merging(["DATACENTERED_SECRET_KEY": secretKey ?? self.secretKey]) { $1 }
        )
        lock.withLock { processes.append(process) }
        return process
    }
}
