import DataCenterProtocol

/// What a ``DataCenterClient`` does on each connection: authenticate, then serve.
public protocol DataCenterSessionHandler: Sendable {
    /// The first request on every new connection (`auth.agent`, `auth.operator`): its operation and data.
    func authentication() async throws -> (OperationName, any Encodable & Sendable)

    /// The authentication request failed (its `ProtocolError`, such as `auth_failed`, or the connection's
    /// end); the client closes the connection and tries again after its backoff.
    func authenticationFailed(_ error: any Error) async

    /// Runs once the connection is authenticated, for as long as it lasts (cancelled when it closes):
    /// send what a new connection needs, then keep sending what comes up.
    func sessionOpened(_ session: DataCenterSession, authenticated reply: InboundMessage) async

    /// Answers a request from the other side; each runs in its own task, so a slow one does not
    /// hold up the others. Returns the reply's data, or throws the `ProtocolError` to reply with.
    func handleRequest(_ request: InboundMessage, operation: String, session: DataCenterSession) async throws(ProtocolError) -> any Encodable & Sendable

    /// An event from the other side.
    func handleEvent(_ event: InboundMessage, name: String, session: DataCenterSession) async
}

extension DataCenterSessionHandler {
    /// A client that reconnects for ever (an agent) has nothing to do here: the client logs the failure.
    public func authenticationFailed(_ error: any Error) async {}
}
