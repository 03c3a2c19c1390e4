import Wire

/// Where a worker learns which gateways are alive: the registry in production.
public protocol GatewayDirectory: Sendable {
    /// The internal addresses of every gateway that is alive now.
    func liveGateways() async throws -> [GatewayAddress]
}
