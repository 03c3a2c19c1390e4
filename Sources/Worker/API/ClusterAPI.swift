import NIOCore
import Wire

/// What a handler can do to clients anywhere in the cluster: GatewayWorker's `Lib\Gateway`.
///
/// Calls keyed by client id go to the one gateway the id names; calls for everyone go to every
/// linked gateway. Sends are queued on the link and return once queued.
public struct ClusterAPI: Sendable {
    private let links: GatewayLinkSet
    /// The client whose event is being handled; nil in start, stop and timers.
    public let currentClient: ClientID?

    init(links: GatewayLinkSet, currentClient: ClientID?) {
        self.links = links
        self.currentClient = currentClient
    }

    /// Sends `message` to one client.
    public func sendToClient(_ clientID: ClientID, _ message: OutgoingMessage) async throws {
        try links.send(Self.frame(.sendToOne, to: clientID, message), to: clientID.gateway)
    }

    /// Sends `message` to the client whose event is being handled.
    public func sendToCurrentClient(_ message: OutgoingMessage) async throws {
        guard let currentClient else { throw ClusterAPIError.noCurrentClient }
        try await sendToClient(currentClient, message)
    }

    /// Sends `message` to every client on every linked gateway.
    public func sendToAll(_ message: OutgoingMessage) async throws {
        try links.sendToEveryGateway(GatewayFrame(command: .sendToAll, flags: Self.flags(message), body: message.bytes))
    }

    /// Closes a client: sends `lastMessage` first if given (flushed before the close), then a normal close.
    public func closeClient(_ clientID: ClientID, lastMessage: OutgoingMessage? = nil) async throws {
        let frame = lastMessage.map { Self.frame(.kick, to: clientID, $0) }
            ?? GatewayFrame(command: .kick, localIP: clientID.gatewayIP, localPort: clientID.gatewayPort, connectionID: clientID.connectionNumber)
        try links.send(frame, to: clientID.gateway)
    }

    private static func frame(_ command: GatewayCommand, to clientID: ClientID, _ message: OutgoingMessage) -> GatewayFrame {
        GatewayFrame(
            command: command,
            localIP: clientID.gatewayIP,
            localPort: clientID.gatewayPort,
            connectionID: clientID.connectionNumber,
            flags: flags(message),
            body: message.bytes
        )
    }

    private static func flags(_ message: OutgoingMessage) -> GatewayFrame.Flags {
        message.isBinary ? .binary : []
    }
}
