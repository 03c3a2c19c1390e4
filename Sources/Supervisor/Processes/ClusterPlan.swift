import Foundation

/// Turns a configuration into the children this machine runs, in start order:
/// memcached, then gateways, then workers, then the agent.
public struct ClusterPlan: Sendable, Equatable {
    public var children: [ChildSpecification]

    /// - Parameter executable: the `datacentered` binary the children run.
    public init(configuration: SupervisorConfiguration, executable: String) {
        var children: [ChildSpecification] = []
        let roles = Set(configuration.roles)
        let memcached = configuration.memcached
        let registry = ["--memcached", memcached.effectiveServers.joined(separator: ","), "--key-prefix", memcached.keyPrefix]
        let common = registry + ["--log-level", configuration.logLevel]
        let secret = configuration.secretKey.isEmpty ? [:] : ["DATACENTERED_SECRET_KEY": configuration.secretKey]

        if roles.contains(.memcached) {
            let port = String(memcached.localPort)
            var command = ["memcached", "-l", "127.0.0.1", "-p", port, "-U", "0", "-m", String(memcached.localMemoryMB)]
            // memcached refuses to run as root: drop to Debian's memcache user (before it starts, so
            // it can die with the supervisor), or tell it root is meant when there is no such user.
            var user: String?
            if getuid() == 0 {
                if getpwnam("memcache") != nil { user = "memcache" } else { command += ["-u", "root"] }
            }
            children.append(
                ChildSpecification(role: .memcached, name: "memcached", command: command, user: user, listening: "127.0.0.1:\(port)")
            )
        }
        if roles.contains(.gateway) {
            let gateway = configuration.gateway
            for index in 0..<gateway.count {
                var command = [executable, "gateway"]
                var listening: [String] = []
                if !gateway.listen.isEmpty {
                    command += ["--listen", gateway.listen]
                    listening.append("ws://\(gateway.listen)")
                }
                if !gateway.listenTLS.isEmpty {
                    command += ["--listen-tls", gateway.listenTLS, "--tls-certificate", gateway.tlsCertificate, "--tls-key", gateway.tlsKey]
                    listening.append("wss://\(gateway.listenTLS)")
                }
                if !gateway.linkCertificate.isEmpty {
                    command += ["--link-tls-certificate", gateway.linkCertificate, "--link-tls-key", gateway.linkKey]
                }
                if var text = HostPort(gateway.listenText) {
                    text.port += index
                    command += ["--listen-text", text.description]
                    listening.append("text://\(text)")
                }
                if gateway.reusePort { command.append("--reuse-port") }
                let lanPort = gateway.lanStartPort + index
                command += ["--lan-ip", gateway.lanIP, "--lan-port", String(lanPort), "--router", gateway.router]
                listening.append("lan://\(gateway.lanIP):\(lanPort)")
                if gateway.eventLoops > 0 { command += ["--event-loops", String(gateway.eventLoops)] }
                children.append(
                    ChildSpecification(
                        role: .gateway, name: "gateway-\(index)", command: command + common + gateway.extraArguments,
                        environment: secret, listening: listening.joined(separator: " "), servesMetrics: true
                    )
                )
            }
        }
        if roles.contains(.worker) {
            let worker = configuration.worker
            for index in 0..<worker.count {
                let name = "worker-\(index)"
                var command = [executable, "worker", "--handler", worker.handler, "--name", name] + common
                if !worker.linkCA.isEmpty { command += ["--link-tls-ca", worker.linkCA] }
                if worker.handler == "datacenter" { command += ["--tokens", configuration.tokensFilePath] }
                if worker.maxConcurrentEvents > 0 { command += ["--max-concurrent-events", String(worker.maxConcurrentEvents)] }
                command += worker.extraArguments
                children.append(ChildSpecification(role: .worker, name: name, command: command, environment: secret, servesMetrics: true))
            }
        }
        if roles.contains(.agent) {
            var command = [executable, "agent", "--config", configuration.agent.config]
            if configuration.supervisor.issueTokens, let gateway = configuration.localGatewayURL {
                // This machine's own agent: the token `start` issued, state in the run directory.
                command += [
                    "--gateways", gateway, "--token-file", configuration.localAgentTokenFile,
                    "--state-directory", configuration.localAgentStateDirectory,
                ]
            }
            children.append(
                ChildSpecification(role: .agent, name: "agent", command: command + configuration.agent.extraArguments, environment: secret)
            )
        }
        self.children = children
    }
}
