/// What a child process is: a role, a name that stays the same across restarts, and how to run it.
/// Gateways, workers, memcached and the agent are all this; only their arguments differ.
public struct ChildSpecification: Sendable, Equatable {
    /// `gateway`, `worker`, `memcached`, `agent`.
    public var role: SupervisorConfiguration.Role
    /// `gateway-0`, `worker-1`, ...: stable across restarts.
    public var name: String
    /// The program and its arguments (`argv[0]` is the executable's path).
    public var command: [String]
    /// Variables added to the supervisor's environment (the secret key goes here, never in `command`).
    public var environment: [String: String]
    /// The user to run as (memcached refuses to run as root); nil keeps the supervisor's.
    public var user: String?
    /// The address it serves, for status (public and internal ports).
    public var listening: String
    /// Whether it takes `--metrics host:port` (the datacentered subcommands do; memcached does not).
    public var servesMetrics: Bool

    public init(
        role: SupervisorConfiguration.Role, name: String, command: [String], environment: [String: String] = [:],
        user: String? = nil, listening: String = "", servesMetrics: Bool = false
    ) {
        self.role = role
        self.name = name
        self.command = command
        self.environment = environment
        self.user = user
        self.listening = listening
        self.servesMetrics = servesMetrics
    }
}
