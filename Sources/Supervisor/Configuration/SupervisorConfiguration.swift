/// Everything `datacentered start` needs, one field per key of `Config/datacentered.json`.
///
/// Every field has a default, so `init()` describes a single-machine cluster: a local memcached,
/// one gateway and two echo workers. The README's "Configuration" section lists every key.
public struct SupervisorConfiguration: Sendable, Equatable {
    /// The kinds of child process this machine runs.
    public enum Role: String, Sendable, CaseIterable, Comparable {
        case memcached, gateway, worker, agent

        public static func < (lhs: Role, rhs: Role) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// `roles`: what this machine runs (a gateway machine, a worker machine, or everything).
    public var roles: [Role] = [.memcached, .gateway, .worker]
    /// `secretKey`: the key workers prove to gateways; best set with `DATACENTERED_SECRET_KEY`.
    public var secretKey = ""
    /// `gateway.*`
    public var gateway = Gateway()
    /// `worker.*`
    public var worker = Worker()
    /// `memcached.*`
    public var memcached = Memcached()
    /// `agent.*`
    public var agent = Agent()
    /// `supervisor.*`
    public var supervisor = Supervision()
    /// `log.level`: the lowest level every process logs.
    public var logLevel = "info"

    public init() {}

    /// The gateway processes of this machine.
    public struct Gateway: Sendable, Equatable {
        /// `gateway.count`: gateway processes; they share the public port with SO_REUSEPORT.
        public var count = 1
        /// `gateway.listen`: public ws address, host:port; empty serves no plain ws.
        public var listen = "0.0.0.0:8282"
        /// `gateway.listenTLS`: public wss address, host:port; empty serves no wss.
        public var listenTLS = ""
        /// `gateway.tlsCertificate`, `gateway.tlsKey`: PEM files for wss.
        public var tlsCertificate = ""
        public var tlsKey = ""
        /// `gateway.linkCertificate`, `gateway.linkKey`: PEM files for TLS on the internal port (worker links); empty: plain TCP.
        public var linkCertificate = ""
        public var linkKey = ""
        /// `gateway.listenText`: the first gateway's text port, host:port (gateway N listens on port + N); empty: none.
        public var listenText = ""
        /// `gateway.reusePort`: share the public port between the gateway processes.
        public var reusePort = true
        /// `gateway.lanIP`: the internal address workers link to.
        public var lanIP = "127.0.0.1"
        /// `gateway.lanStartPort`: gateway N's internal port is lanStartPort + N.
        public var lanStartPort = 2900
        /// `gateway.router`: sticky, least-connections or random.
        public var router = "sticky"
        /// `gateway.eventLoops`: threads per gateway process; 0 is one per core.
        public var eventLoops = 0
        /// `gateway.extraArguments`: more `datacentered gateway` flags, passed as they are.
        public var extraArguments: [String] = []

        public init() {}
    }

    /// The business worker processes of this machine.
    public struct Worker: Sendable, Equatable {
        /// `worker.count`: worker processes.
        public var count = 2
        /// `worker.handler`: the event handler they run (echo, probe).
        public var handler = "echo"
        /// `worker.linkCA`: PEM file of the CA that gateways' internal-port certificates chain to; empty: plain TCP links.
        public var linkCA = ""
        /// `worker.tokensFile`: the datacenter handler's token file (`--tokens`); empty: `tokens.json` in `supervisor.runDirectory`.
        public var tokensFile = ""
        /// `worker.maxConcurrentEvents`: client events a worker may handle at once (`--max-concurrent-events`);
        /// 0: the handler's default (64 for datacenter, 1 for the others).
        public var maxConcurrentEvents = 0
        /// `worker.extraArguments`: more `datacentered worker` flags, passed as they are.
        public var extraArguments: [String] = []

        public init() {}
    }

    /// The registry.
    public struct Memcached: Sendable, Equatable {
        /// `memcached.servers`: host:port of every memcached server, or `local`: the supervisor runs one on loopback.
        public var servers = ["local"]
        /// `memcached.localPort`: the port of the local memcached.
        public var localPort = 11311
        /// `memcached.localMemoryMB`: its memory limit.
        public var localMemoryMB = 64
        /// `memcached.keyPrefix`: prefix of every registry key (several clusters can share a memcached).
        public var keyPrefix = "dc"

        public init() {}

        /// True when the supervisor runs memcached itself.
        public var isLocal: Bool { servers == ["local"] }
        /// The servers every process names.
        public var effectiveServers: [String] { isLocal ? ["127.0.0.1:\(localPort)"] : servers }
    }

    /// The host agent (`datacentered agent`), when the `agent` role is on.
    public struct Agent: Sendable, Equatable {
        /// `agent.config`: the agent's own JSON config file (its allow-list; Config/agent.example.json).
        public var config = "/etc/datacentered/agent.json"
        /// `agent.extraArguments`: more `datacentered agent` flags, passed as they are.
        public var extraArguments: [String] = []

        public init() {}
    }

    /// The master process itself.
    public struct Supervision: Sendable, Equatable {
        /// `supervisor.runDirectory`: pid file, lock and control socket.
        public var runDirectory = "run"
        /// `supervisor.logDirectory`: the log file of a daemon.
        public var logDirectory = "log"
        /// `supervisor.stopGraceSeconds`: how long children may take to stop before SIGKILL.
        public var stopGraceSeconds = 10.0
        /// `supervisor.restartDelayMaxSeconds`: the longest wait before restarting a crashing child.
        public var restartDelayMaxSeconds = 30.0
        /// `supervisor.restartResetSeconds`: a child up this long is healthy again (its delay restarts at 0).
        public var restartResetSeconds = 10.0
        /// `supervisor.metricsListen`: the master's Prometheus endpoint, host:port; empty: none.
        public var metricsListen = "127.0.0.1:9464"
        /// `supervisor.childMetricsHost`: where children serve their own metrics (ports chosen free).
        public var childMetricsHost = "127.0.0.1"
        /// `supervisor.issueTokens`: each `start` issues a new operator token `admin` (printed once, to the
        /// terminal) and, with the agent role, a new token for this host's agent, kept in the run directory.
        public var issueTokens = false

        public init() {}
    }

    /// The token file the datacenter handler's workers read.
    public var tokensFilePath: String {
        worker.tokensFile.isEmpty ? supervisor.runDirectory + "/tokens.json" : worker.tokensFile
    }

    /// The token of this machine's agent when ``Supervision/issueTokens`` is on (0600, in the run directory).
    public var localAgentTokenFile: String { supervisor.runDirectory + "/agent.token" }

    /// The state directory of this machine's agent when ``Supervision/issueTokens`` is on.
    public var localAgentStateDirectory: String { supervisor.runDirectory + "/agent-state" }

    /// The address this machine's agent reaches its own gateways at: the public ws port on loopback
    /// when the gateway listens on every address.
    public var localGatewayURL: String? {
        guard var address = HostPort(gateway.listen) else { return nil }
        if address.host == "0.0.0.0" { address.host = "127.0.0.1" }
        return "ws://\(address)/"
    }
}
