import NIOCore
import Wire

/// Everything a business-worker process needs to run; every field has a default so `init()` works.
public struct WorkerConfiguration: Sendable {
    /// The worker's name, sent to gateways as `name:pid` for their logs.
    public var name = "worker"
    /// The key every gateway expects (never sent: see ``LinkKey``); at least 16 bytes.
    public var secretKey = ""
    /// How often the registry is read for gateways that came or went.
    public var discoveryInterval = TimeAmount.seconds(1)
    /// First and longest wait before re-linking to a gateway whose link broke.
    public var reconnectBackoff = (first: TimeAmount.milliseconds(100), longest: TimeAmount.seconds(5))
    /// A gateway that does not answer the connect and the hello within this is retried later.
    public var linkTimeout = TimeAmount.seconds(3)
    /// How long a cluster API query waits for each gateway's answer.
    public var queryTimeout = TimeAmount.seconds(5)
    /// On graceful shutdown, the longest wait for gateways' last events before links are closed anyway
    /// (the gateways then redeliver what was not acknowledged).
    public var leaveTimeout = TimeAmount.seconds(10)
    /// How often the counters are logged; nil logs none.
    public var statisticsInterval: TimeAmount?
    /// Pings on each gateway link, and how long a silent gateway takes to be declared dead.
    public var linkKeepalive = LinkKeepalive.Policy()
    /// A PEM file of CA certificates that gateways' internal-port certificates must chain to: links
    /// then speak TLS. Nil (the default) links over plain TCP.
    public var linkTLSTrustRootsPath: String?
    /// Bytes of Channel events that may wait for the handler (one always fits). Client events are
    /// bounded by the gateways' backlogs, since a gateway holds each until it is acknowledged; Channel
    /// events are not acknowledged, so past this a new one is dropped and counted.
    public var maxChannelEventBacklogBytes = 16 << 20
    /// Client events the handler may run at once, each of a different client (a client's own events
    /// never overlap and keep their order). 1, the default, runs everything one at a time in arrival
    /// order, as GatewayWorker does; more lets a handler that awaits (a database, memcached) serve
    /// other clients meanwhile, and suits only a handler whose state is safe under concurrent calls.
    /// Timer firings run one at a time among themselves, and so do Channel events.
    public var maxConcurrentEvents = 1
    /// The largest gateway <-> worker frame.
    public var maxLinkFrameSize = GatewayFrameDecoder.defaultMaximumFrameLength

    public init() {}

    /// Throws unless the configuration can run (a ``LinkKeyError`` for a missing or short key, a
    /// ``WorkerConfigurationError`` for a bad limit).
    public func validate() throws {
        _ = try LinkKey(secret: secretKey)
        guard maxConcurrentEvents >= 1 else { throw WorkerConfigurationError.noConcurrentEvents(maxConcurrentEvents) }
    }
}
