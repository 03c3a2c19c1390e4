import Wire

/// The business logic of a worker: GatewayWorker's `Events` class as a Swift protocol.
///
/// The worker calls these one at a time, in the order the events arrived, so one client's events are
/// never handled concurrently or out of order. With ``WorkerConfiguration/maxConcurrentEvents`` above
/// 1 it calls them for several clients at once (so the handler must be safe under concurrent calls),
/// and each client's events still one at a time, in order. A thrown error is logged and counted; the
/// client stays connected. Every method has an empty default.
public protocol EventHandler: Sendable {
    /// Once, after the worker starts and before any client event.
    func onWorkerStart(_ worker: WorkerContext) async throws
    /// A client connected to a gateway.
    func onConnect(_ context: EventContext) async throws
    /// A client's WebSocket handshake: its path, query and headers, for authentication.
    func onWebSocketConnect(_ context: EventContext, handshake: WebSocketHandshakeInfo) async throws
    /// A client sent a message.
    func onMessage(_ context: EventContext, message: ClientMessage) async throws
    /// A client disconnected; it can no longer be sent to.
    func onClose(_ context: EventContext) async throws
    /// Once, when the worker stops.
    func onWorkerStop(_ worker: WorkerContext) async throws
}

extension EventHandler {
    public func onWorkerStart(_ worker: WorkerContext) async throws {}
    public func onConnect(_ context: EventContext) async throws {}
    public func onWebSocketConnect(_ context: EventContext, handshake: WebSocketHandshakeInfo) async throws {}
    public func onMessage(_ context: EventContext, message: ClientMessage) async throws {}
    public func onClose(_ context: EventContext) async throws {}
    public func onWorkerStop(_ worker: WorkerContext) async throws {}
}
