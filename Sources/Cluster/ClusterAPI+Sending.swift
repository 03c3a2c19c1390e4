import NIOCore
import Wire

/// Sending to clients, and closing them.
extension ClusterAPI {
    /// Sends `message` to one client.
    public func sendToClient(_ client: ClientID, _ message: OutgoingMessage) async throws {
        try await send(.sendToOne, about: client, body: message.bytes, flags: Self.flags(message))
    }

    /// Sends `message` to the client whose event is being handled.
    public func sendToCurrentClient(_ message: OutgoingMessage) async throws {
        try await sendToClient(try requireCurrentClient(), message)
    }

    /// Sends `message` to every client, or only to `clients` when given, never to `excluded` ones.
    public func sendToAll(_ message: OutgoingMessage, only clients: [ClientID]? = nil, excluding excluded: [ClientID] = []) async throws {
        let excludedByGateway = Dictionary(grouping: excluded, by: \.gateway)
        let flags = Self.flags(message)
        guard let clients else {
            let gateways = try await transport.gatewayAddresses()
            guard !gateways.isEmpty else { throw ClusterAPIError.noGatewayLinked }
            for gateway in gateways {
                let arguments = CommandArguments.SendToAll(exclude: excludedByGateway[gateway]?.map(\.connectionNumber))
                let frame = GatewayFrame(command: .sendToAll, flags: flags, extData: try Self.arguments(arguments), body: message.bytes)
                try await transport.send(frame, to: gateway, following: currentClient)
            }
            return
        }
        for (gateway, chosen) in Dictionary(grouping: clients, by: \.gateway) {
            let arguments = CommandArguments.SendToAll(
                clients: chosen.map(\.connectionNumber),
                exclude: excludedByGateway[gateway]?.map(\.connectionNumber)
            )
            let frame = GatewayFrame(command: .sendToAll, flags: flags, extData: try Self.arguments(arguments), body: message.bytes)
            try await transport.send(frame, to: gateway, following: currentClient)
        }
    }

    /// Sends `message` to every client bound to any of `uids`.
    public func sendToUID(_ uids: [String], _ message: OutgoingMessage) async throws {
        let frame = GatewayFrame(command: .sendToUID, flags: Self.flags(message), extData: try Self.arguments(uids), body: message.bytes)
        try await sendToEveryGateway(frame)
    }

    public func sendToUID(_ uid: String, _ message: OutgoingMessage) async throws {
        try await sendToUID([uid], message)
    }

    /// Sends `message` to every member of any of `groups`, never to `excluded` clients.
    public func sendToGroup(_ groups: [String], _ message: OutgoingMessage, excluding excluded: [ClientID] = []) async throws {
        let excludedByGateway = Dictionary(grouping: excluded, by: \.gateway)
        let gateways = try await transport.gatewayAddresses()
        guard !gateways.isEmpty else { throw ClusterAPIError.noGatewayLinked }
        for gateway in gateways {
            let arguments = CommandArguments.SendToGroup(groups: groups, exclude: excludedByGateway[gateway]?.map(\.connectionNumber))
            let frame = GatewayFrame(command: .sendToGroup, flags: Self.flags(message), extData: try Self.arguments(arguments), body: message.bytes)
            try await transport.send(frame, to: gateway, following: currentClient)
        }
    }

    public func sendToGroup(_ group: String, _ message: OutgoingMessage, excluding excluded: [ClientID] = []) async throws {
        try await sendToGroup([group], message, excluding: excluded)
    }

    /// Closes a client: `lastMessage` first if given (flushed before the close), then a normal close.
    public func closeClient(_ client: ClientID, lastMessage: OutgoingMessage? = nil) async throws {
        try await send(.kick, about: client, body: lastMessage?.bytes ?? ByteBuffer(), flags: lastMessage.map(Self.flags) ?? [])
    }

    public func closeCurrentClient(lastMessage: OutgoingMessage? = nil) async throws {
        try await closeClient(try requireCurrentClient(), lastMessage: lastMessage)
    }

    /// Drops a client's connection at once, discarding what was not yet sent to it.
    public func destroyClient(_ client: ClientID) async throws {
        try await send(.destroy, about: client)
    }

    public func destroyCurrentClient() async throws {
        try await destroyClient(try requireCurrentClient())
    }

    static func flags(_ message: OutgoingMessage) -> GatewayFrame.Flags {
        var flags: GatewayFrame.Flags = message.isBinary ? .binary : []
        if message.isRaw { flags.insert(.raw) }
        return flags
    }

    static func arguments(_ value: some Encodable) throws -> ByteBuffer {
        try ByteBuffer(json: value)
    }
}
