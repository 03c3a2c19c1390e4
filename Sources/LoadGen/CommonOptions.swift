import ArgumentParser
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Options shared by every mode.
struct CommonOptions: ParsableArguments {
    /// Hard limits, so that no run can go on without bound.
    static let maxDurationSeconds = 600.0
    static let maxWarmupSeconds = 120.0
    static let maxConnections = 100_000

    @Option(help: "WebSocket server, ws://HOST:PORT/PATH (loopback only).")
    var url: String = "ws://127.0.0.1:8080/"

    @Option(help: "Number of client connections.")
    var connections: Int = 100

    @Option(help: "Measured (rtt, fanout) or holding (idle) time, seconds (at most 600).")
    var duration: Double = 10

    @Option(help: "Warm-up before measuring, seconds (rtt, fanout).")
    var warmup: Double = 2

    @Option(help: "Comma-separated local addresses to bind, round-robin (e.g. 127.0.0.2,127.0.0.3).")
    var sourceIps: String = ""

    @Option(help: "Connects in flight at once.")
    var connectRate: Int = 500

    @Option(help: "Timeout of one TCP connect plus WebSocket upgrade, seconds.")
    var connectTimeout: Double = 10

    @Option(help: "Give up opening connections after this many seconds.")
    var connectDeadline: Double = 180

    @Option(help: "Event loop threads (default: one per core).")
    var eventLoops: Int = System.coreCount

    @Option(help: "Size of each sent text message, bytes.")
    var payloadSize: Int = 64

    @Option(help: "Label copied into the JSON summary.")
    var label: String = ""

    func validate() throws {
        guard (1...CommonOptions.maxConnections).contains(connections) else {
            throw ValidationError("--connections must be 1...\(CommonOptions.maxConnections)")
        }
        let fdLimit = Self.descriptorLimit()
        guard connections + 64 <= fdLimit else {
            throw ValidationError("--connections \(connections) needs more descriptors than this process may hold (\(fdLimit)); run several processes with distinct --source-ips")
        }
        guard duration > 0, duration <= CommonOptions.maxDurationSeconds else {
            throw ValidationError("--duration must be in (0, \(Int(CommonOptions.maxDurationSeconds))] seconds")
        }
        guard warmup >= 0, warmup <= CommonOptions.maxWarmupSeconds else {
            throw ValidationError("--warmup must be in [0, \(Int(CommonOptions.maxWarmupSeconds))] seconds")
        }
        guard (1...10_000).contains(connectRate) else { throw ValidationError("--connect-rate must be 1...10000") }
        guard connectTimeout > 0, connectTimeout <= 120 else { throw ValidationError("--connect-timeout must be in (0, 120]") }
        guard connectDeadline > 0, connectDeadline <= 600 else { throw ValidationError("--connect-deadline must be in (0, 600]") }
        guard (1...64).contains(eventLoops) else { throw ValidationError("--event-loops must be 1...64") }
        guard (1...65_000).contains(payloadSize) else { throw ValidationError("--payload-size must be 1...65000") }
        _ = try target()
        _ = try sourceAddresses()
    }

    func target() throws -> Target {
        try Target(url: url)
    }

    func sourceAddresses() throws -> [SocketAddress] {
        let names = sourceIps.split(separator: ",").map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        return try names.map { name in
            guard Target.isLoopback(name) else {
                throw ValidationError("--source-ips: \(name) is not a loopback address (127.0.0.0/8)")
            }
            return try SocketAddress(ipAddress: name, port: 0)
        }
    }

    /// Measured phase plus warm-up, as nanoseconds.
    var warmupNanos: UInt64 { UInt64(warmup * 1e9) }
    var durationNanos: UInt64 { UInt64(duration * 1e9) }

    static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return limit.rlim_cur > UInt64(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)
    }
}

/// Where to connect, parsed from `--url`.
struct Target: Sendable {
    var host: String
    var port: Int
    var path: String
    var address: SocketAddress

    init(url: String) throws {
        guard url.hasPrefix("ws://") else { throw ValidationError("--url must start with ws:// (got \(url))") }
        let rest = url.dropFirst("ws://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostPort = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard let colon = hostPort.lastIndex(of: ":"), let port = Int(hostPort[hostPort.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw ValidationError("--url needs an explicit port: ws://HOST:PORT/")
        }
        host = String(hostPort[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        self.port = port
        guard Target.isLoopback(host) else {
            throw ValidationError("--url host \(host) is not a loopback address: load stays on 127.0.0.0/8")
        }
        address = try SocketAddress(ipAddress: host, port: port)
    }

    static func isLoopback(_ ip: String) -> Bool {
        let parts = ip.split(separator: ".")
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    var hostHeader: String { "\(host):\(port)" }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        String(self.drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}
