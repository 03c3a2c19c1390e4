import Foundation
import Wire

/// The checks a configuration must pass before anything starts (and before a reload is accepted).
enum ConfigurationValidator {
    static let routers = ["sticky", "least-connections", "random"]
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    static func validate(_ configuration: SupervisorConfiguration) throws {
        if configuration.roles.isEmpty {
            throw invalid("roles", "[]", "one or more of \(SupervisorConfiguration.Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try check("log.level", configuration.logLevel, in: logLevels)
        let linked = configuration.roles.contains(.gateway) || configuration.roles.contains(.worker)
        if linked && configuration.secretKey.utf8.count < LinkKey.minimumLength {
            // The value itself is never shown.
            throw invalid(
                "secretKey", configuration.secretKey.isEmpty ? "empty" : "\(configuration.secretKey.utf8.count) bytes long",
                "at least \(LinkKey.minimumLength) bytes, the same on every machine; set it with DATACENTERED_SECRET_KEY"
            )
        }
        if configuration.roles.contains(.gateway) { try validate(configuration.gateway) }
        if configuration.roles.contains(.worker) { try validate(configuration.worker) }
        try validate(configuration.memcached, roles: configuration.roles)
        try validate(configuration.supervisor)
        if configuration.roles.contains(.agent) && !FileManager.default.isReadableFile(atPath: configuration.agent.config) {
            throw invalid("agent.config", "\"\(configuration.agent.config)\"", "the agent's readable JSON config file (the agent role is on)")
        }
        if configuration.supervisor.issueTokens { try validateTokenIssuing(configuration) }
    }

    /// Issuing tokens at start needs the token file of this machine's datacenter workers, and a local
    /// agent needs a local plain ws gateway to report to.
    private static func validateTokenIssuing(_ configuration: SupervisorConfiguration) throws {
        if !configuration.roles.contains(.worker) || configuration.worker.handler != "datacenter" {
            throw invalid("supervisor.issueTokens", "true", "false unless this machine runs workers with worker.handler datacenter")
        }
        if configuration.roles.contains(.agent) && (!configuration.roles.contains(.gateway) || configuration.localGatewayURL == nil) {
            throw invalid(
                "supervisor.issueTokens", "true",
                "false with the agent role unless this machine runs a gateway with gateway.listen set (the local agent reports to it)"
            )
        }
    }

    private static func validate(_ gateway: SupervisorConfiguration.Gateway) throws {
        try check("gateway.count", gateway.count, in: 1...256)
        if gateway.listen.isEmpty && gateway.listenTLS.isEmpty {
            throw invalid("gateway.listen", "\"\"", "host:port (gateway.listen or gateway.listenTLS must be set)")
        }
        try checkAddress("gateway.listen", gateway.listen, emptyAllowed: true)
        try checkAddress("gateway.listenTLS", gateway.listenTLS, emptyAllowed: true)
        try checkAddress("gateway.listenText", gateway.listenText, emptyAllowed: true)
        if !gateway.listenTLS.isEmpty {
            for (key, path) in [("gateway.tlsCertificate", gateway.tlsCertificate), ("gateway.tlsKey", gateway.tlsKey)]
            where !FileManager.default.isReadableFile(atPath: path) {
                throw invalid(key, "\"\(path)\"", "a readable PEM file (gateway.listenTLS is set)")
            }
        }
        if gateway.linkCertificate.isEmpty != gateway.linkKey.isEmpty {
            let (key, value) = gateway.linkKey.isEmpty ? ("gateway.linkKey", "") : ("gateway.linkCertificate", "")
            throw invalid(key, "\"\(value)\"", "a readable PEM file: gateway.linkCertificate and gateway.linkKey go together")
        }
        for (key, path) in [("gateway.linkCertificate", gateway.linkCertificate), ("gateway.linkKey", gateway.linkKey)]
        where !path.isEmpty && !FileManager.default.isReadableFile(atPath: path) {
            throw invalid(key, "\"\(path)\"", "a readable PEM file")
        }
        if gateway.count > 1 && !gateway.reusePort {
            throw invalid("gateway.reusePort", "false", "true when gateway.count is more than 1 (the gateways share the public port)")
        }
        let octets = gateway.lanIP.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count != 4 || !octets.allSatisfy({ UInt8($0) != nil }) {
            throw invalid("gateway.lanIP", "\"\(gateway.lanIP)\"", "an IPv4 address")
        }
        try check("gateway.lanStartPort", gateway.lanStartPort, in: 1...(65535 - gateway.count + 1))
        try check("gateway.router", gateway.router, in: routers)
        try check("gateway.eventLoops", gateway.eventLoops, in: 0...1024)
    }

    private static func validate(_ worker: SupervisorConfiguration.Worker) throws {
        try check("worker.count", worker.count, in: 0...1024)
        try check("worker.maxConcurrentEvents", worker.maxConcurrentEvents, in: 0...65536)
        if worker.handler.isEmpty { throw invalid("worker.handler", "\"\"", "a handler name (echo, probe, datacenter)") }
        if !worker.linkCA.isEmpty && !FileManager.default.isReadableFile(atPath: worker.linkCA) {
            throw invalid("worker.linkCA", "\"\(worker.linkCA)\"", "a readable PEM file of CA certificates, or empty")
        }
    }

    private static func validate(_ memcached: SupervisorConfiguration.Memcached, roles: [SupervisorConfiguration.Role]) throws {
        let list = "[" + memcached.servers.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        if memcached.servers.isEmpty || (memcached.servers.contains("local") && memcached.servers.count > 1) {
            throw invalid("memcached.servers", list, "[\"local\"] or a list of host:port")
        }
        if !memcached.isLocal {
            for server in memcached.servers where HostPort(server) == nil {
                throw invalid("memcached.servers", list, "[\"local\"] or a list of host:port")
            }
        }
        if roles.contains(.memcached) && !memcached.isLocal {
            throw invalid("roles", "memcached", "the memcached role only with memcached.servers [\"local\"]")
        }
        try check("memcached.localPort", memcached.localPort, in: 1...65535)
        try check("memcached.localMemoryMB", memcached.localMemoryMB, in: 1...1_048_576)
        if memcached.keyPrefix.isEmpty || memcached.keyPrefix.contains(where: { $0.isWhitespace }) {
            throw invalid("memcached.keyPrefix", "\"\(memcached.keyPrefix)\"", "a non-empty prefix without spaces")
        }
    }

    private static func validate(_ supervision: SupervisorConfiguration.Supervision) throws {
        if supervision.runDirectory.isEmpty { throw invalid("supervisor.runDirectory", "\"\"", "a directory path") }
        if supervision.logDirectory.isEmpty { throw invalid("supervisor.logDirectory", "\"\"", "a directory path") }
        try check("supervisor.stopGraceSeconds", supervision.stopGraceSeconds, in: 0...3600)
        try check("supervisor.restartDelayMaxSeconds", supervision.restartDelayMaxSeconds, in: 0...3600)
        try check("supervisor.restartResetSeconds", supervision.restartResetSeconds, in: 0...3600)
        try checkAddress("supervisor.metricsListen", supervision.metricsListen, emptyAllowed: true)
        if supervision.childMetricsHost.isEmpty { throw invalid("supervisor.childMetricsHost", "\"\"", "a loopback or internal address") }
    }

    private static func check(_ key: String, _ value: Int, in range: ClosedRange<Int>) throws {
        if !range.contains(value) { throw invalid(key, "\(value)", "an integer from \(range.lowerBound) to \(range.upperBound)") }
    }

    private static func check(_ key: String, _ value: Double, in range: ClosedRange<Double>) throws {
        if !range.contains(value) {
            throw invalid(key, "\(value)", "a number of seconds from \(Int(range.lowerBound)) to \(Int(range.upperBound))")
        }
    }

    private static func check(_ key: String, _ value: String, in allowed: [String]) throws {
        if !allowed.contains(value) { throw invalid(key, "\"\(value)\"", allowed.joined(separator: ", ")) }
    }

    private static func checkAddress(_ key: String, _ value: String, emptyAllowed: Bool) throws {
        if value.isEmpty && emptyAllowed { return }
        if HostPort(value) == nil { throw invalid(key, "\"\(value)\"", "host:port with a port from 0 to 65535") }
    }

    private static func invalid(_ key: String, _ value: String, _ allowed: String) -> ConfigurationError {
        .invalidValue(key: key, value: value, allowed: allowed)
    }
}
