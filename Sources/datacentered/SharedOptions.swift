import ArgumentParser
import Foundation
import Logging
import Registry
import Wire

/// Where memcached is, for every role that uses the registry.
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("memcached"), help: "memcached servers, comma-separated host:port.")
    var memcachedServers = ProcessInfo.processInfo.environment["DATACENTERED_MEMCACHED"] ?? "127.0.0.1:11211"

    @Option(help: "Prefix of every registry key, so several clusters can share one memcached.")
    var keyPrefix = "dc"

    func makeClient() throws -> MemcachedClient {
        var configuration = MemcachedConfiguration()
        configuration.servers = memcachedServers.split(separator: ",").map { String($0) }
        return try MemcachedClient(configuration: configuration)
    }
}

/// The shared secret that gateways and workers prove to each other.
struct SecretOptions: ParsableArguments {
    @Option(help: "Shared secret key. Prefer the DATACENTERED_SECRET_KEY environment variable: a flag shows in `ps`.")
    var secretKey: String?

    var resolvedSecretKey: String {
        secretKey ?? ProcessInfo.processInfo.environment["DATACENTERED_SECRET_KEY"] ?? ""
    }
}

/// The keepalive on gateway <-> worker links, the same for both ends.
struct LinkKeepaliveOptions: ParsableArguments {
    @Option(help: "Seconds between two pings on a gateway <-> worker link; 0 turns keepalive off.")
    var linkKeepaliveInterval = 1.0

    @Option(help: "Pings in a row with nothing heard from the other end before the link is declared dead and closed.")
    var linkKeepaliveMissed = 3

    var policy: LinkKeepalive.Policy {
        get throws {
            guard linkKeepaliveInterval >= 0, linkKeepaliveInterval.isFinite, linkKeepaliveMissed > 0 else {
                throw ValidationError("--link-keepalive-interval must be 0 or more seconds and --link-keepalive-missed at least 1")
            }
            return LinkKeepalive.Policy(interval: .nanoseconds(Int64(linkKeepaliveInterval * 1e9)), missedLimit: linkKeepaliveMissed)
        }
    }
}

/// Logging for every role.
struct LogOptions: ParsableArguments {
    @Option(help: "Lowest level logged: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    /// Routes swift-log to standard error with `role[pid]` on every line, and returns the process logger.
    func bootstrap(role: String) -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { _ in ProcessLogHandler(role: role, level: level) }
        return Logger(label: "datacentered.\(role)")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
