import Cluster
import Registry
import Wire

/// What a handler knows about the event it is handling, and what it can act with.
public struct EventContext: Sendable {
    /// The client the event is about.
    public let clientID: ClientID
    /// The client's remote IPv4 address as the gateway saw it, host order (0 when not IPv4).
    public let clientIP: UInt32
    /// The client's remote port as the gateway saw it.
    public let clientPort: UInt16
    /// The internal address of the gateway holding the client.
    public let gatewayAddress: GatewayAddress
    /// The public port the client connected to.
    public let gatewayPublicPort: UInt16
    /// True when a worker that went away had received this event and may have handled it in part.
    public let isRedelivered: Bool
    /// The client's session; changes reach its gateway after the handler returns.
    public let session: ClientSession
    /// The cluster API, with this client as the current one.
    public let api: ClusterAPI
    /// This worker: its timers and Channel.
    public let worker: WorkerContext

    /// The client's remote address, `ip:port` as the gateway saw it; made when asked, since most
    /// handlers never ask.
    public var clientAddress: String {
        "\(GatewayAddress.formatIPv4(clientIP)):\(clientPort)"
    }
}

/// What a handler can use outside client events too: the cluster API (with no current client),
/// timers, the Channel, and GlobalData.
public struct WorkerContext: Sendable {
    /// This worker's name as gateways know it (`name:pid`).
    public let workerKey: String
    public let api: ClusterAPI
    public let timers: WorkerTimers
    public let channel: ClusterChannel
    /// GatewayWorker's GlobalData: values in memcached shared by every process on every machine.
    public let globalData: GlobalData
}
