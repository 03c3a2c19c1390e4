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
}
