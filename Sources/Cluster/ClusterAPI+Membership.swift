import NIOCore
import Wire

/// uid bindings, groups and sessions.
extension ClusterAPI {
    /// Binds `uid` to a client (one uid per client, many clients per uid).
    public func bindUID(_ client: ClientID, _ uid: String) async throws {
        try await send(.bindUID, about: client, body: ByteBuffer(string: uid))
    }

    public func unbindUID(_ client: ClientID, _ uid: String) async throws {
        try await send(.unbindUID, about: client, body: ByteBuffer(string: uid))
    }

    public func joinGroup(_ client: ClientID, _ group: String) async throws {
        try await send(.joinGroup, about: client, body: ByteBuffer(string: group))
    }

    public func leaveGroup(_ client: ClientID, _ group: String) async throws {
        try await send(.leaveGroup, about: client, body: ByteBuffer(string: group))
    }

    /// Dissolves a group on every gateway; its members stay connected.
    public func ungroup(_ group: String) async throws {
        try await sendToEveryGateway(GatewayFrame(command: .ungroup, body: ByteBuffer(string: group)))
    }

    /// Replaces a client's session.
    public func setSession(_ client: ClientID, _ session: [String: JSONValue]) async throws {
        try await send(.setSession, about: client, body: try ByteBuffer(json: JSONValue.object(session)))
    }

    /// Merges `changes` into a client's session (objects recursively, other values replaced).
    public func updateSession(_ client: ClientID, _ changes: [String: JSONValue]) async throws {
        try await send(.updateSession, about: client, body: try ByteBuffer(json: JSONValue.object(changes)))
    }

    /// A client's session as its gateway holds it; nil when the client is not connected.
    public func getSession(_ client: ClientID) async throws -> [String: JSONValue]? {
        try await ask(Self.frame(.getSessionByClientID, about: client), gateway: client.gateway, as: CommandArguments.SessionAnswer.self).session
    }
}
