import Wire

/// What a handler knows about the event it is handling, and the cluster API to act on it.
public struct EventContext: Sendable {
    /// The client the event is about.
    public let clientID: ClientID
    /// The client's remote address, `ip:port` as the gateway saw it.
    public let clientAddress: String
    /// The internal address of the gateway holding the client.
    public let gatewayAddress: GatewayAddress
    /// The public port the client connected to.
    public let gatewayPublicPort: UInt16
    /// True when a worker that went away had received this event and may have handled it in part.
    public let isRedelivered: Bool
    /// The cluster API, with this client as the current one.
    public let api: ClusterAPI
}

/// What a handler's start and stop know: the cluster API, with no current client.
public struct WorkerContext: Sendable {
    /// This worker's name as gateways know it (`name:pid`).
    public let workerKey: String
    public let api: ClusterAPI
}
