import NIOCore
import Wire

/// How the cluster API reaches gateways: a worker's links, or a gateway client's own connections.
public protocol GatewayTransport: Sendable {
    /// The gateways that calls for everyone go to.
    func gatewayAddresses() async throws -> [GatewayAddress]
    /// Queues a command to one gateway.
    func send(_ frame: GatewayFrame, to gateway: GatewayAddress) async throws
    /// Sends a query to one gateway and returns its answer's body, or throws after `timeout`.
    func query(_ frame: GatewayFrame, to gateway: GatewayAddress, timeout: TimeAmount) async throws -> ByteBuffer
    /// Queues a command made while handling `client`'s event, so that it reaches the gateway after
    /// the commands about that client made before it (a transport with one path per gateway keeps
    /// that order anyway).
    func send(_ frame: GatewayFrame, to gateway: GatewayAddress, following client: ClientID?) async throws
    /// Sends a query made while handling `client`'s event; see ``send(_:to:following:)``.
    func query(_ frame: GatewayFrame, to gateway: GatewayAddress, following client: ClientID?, timeout: TimeAmount) async throws -> ByteBuffer
}

extension GatewayTransport {
    public func send(_ frame: GatewayFrame, to gateway: GatewayAddress, following client: ClientID?) async throws {
        try await send(frame, to: gateway)
    }

    public func query(_ frame: GatewayFrame, to gateway: GatewayAddress, following client: ClientID?, timeout: TimeAmount) async throws -> ByteBuffer {
        try await query(frame, to: gateway, timeout: timeout)
    }
}
