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
    /// The largest gateway <-> worker frame.
    public var maxLinkFrameSize = GatewayFrameDecoder.defaultMaximumFrameLength

    public init() {}

    /// Throws unless the configuration can run (a ``LinkKeyError`` for a missing or short key).
    public func validate() throws {
        _ = try LinkKey(secret: secretKey)
    }
}
