import DataCenterProtocol
import Foundation
import NIOConcurrencyHelpers

/// The connection under an ``OperatorSession``, across reconnects: the client's current authenticated
/// connection to one of its gateways, or, while the client reconnects, the wait for the next one.
///
/// A request goes out on the current connection. One still waiting for its reply when that connection
/// ends fails with ``DataCenterSession/Closed`` (it may or may not have taken effect): it is not sent
/// again, and it does not hang. A request made while the client reconnects waits for the next
/// connection. The session is over when no connection comes back within the reconnect timeout
/// (``OperatorClient/ConnectionEnded``), or when the token is refused on a reconnect (its
/// `auth_failed`): every call then throws that.
public final class OperatorConnection: Sendable {
    private struct State {
        var current: DataCenterSession?
        var waiters: [UUID: CheckedContinuation<DataCenterSession, any Error>] = [:]
        /// Ends the session unless a connection comes back first.
        var deadline: Task<Void, Never>?
        var ended: (any Error)?
    }

    private let state = NIOLockedValueBox(State())
    private let reconnectTimeout: Duration
    private let onEnd: @Sendable () -> Void

    /// - Parameter onEnd: called once, when the session is over.
    init(reconnectTimeout: Duration, onEnd: @escaping @Sendable () -> Void) {
        self.reconnectTimeout = reconnectTimeout
        self.onEnd = onEnd
    }

    /// The gateway of the current connection; nil while the client reconnects.
    public var endpoint: GatewayEndpoint? {
        state.withLockedValue { $0.current?.endpoint }
    }

    /// Sends a request and waits for its reply, on the current connection or, while the client
    /// reconnects, on the next one.
    /// - Throws: the reply's `ProtocolError` when it failed; ``DataCenterSession/TimedOut``;
    ///   ``DataCenterSession/Closed`` when its connection ended before the reply; what ended the session.
    @discardableResult
    public func request(_ operation: OperationName, _ data: some Encodable & Sendable, timeout: Duration? = nil) async throws -> InboundMessage {
        try await session().request(operation, data, timeout: timeout)
    }

    /// What ended the session; nil while it lasts.
    var endReason: (any Error)? {
        state.withLockedValue(\.ended)
    }

    /// The current connection, or the next one once the client has reconnected.
    func session() async throws -> DataCenterSession {
        let id = UUID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<DataCenterSession, any Error>) in
                let now: Result<DataCenterSession, any Error>? = state.withLockedValue { state in
                    if let ended = state.ended { return .failure(ended) }
                    // A connection that has ended but is not detached yet: wait for the next one.
                    if let current = state.current, !current.isClosed { return .success(current) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    // MARK: - Driven by the connection handler

    /// A connection is authenticated: requests go out on it from now on.
    func attach(_ session: DataCenterSession) {
        let waiters: [CheckedContinuation<DataCenterSession, any Error>]? = state.withLockedValue { state in
            guard state.ended == nil else { return nil }
            state.current = session
            state.deadline?.cancel()
            state.deadline = nil
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        guard let waiters else { return session.close() }
        for waiter in waiters { waiter.resume(returning: session) }
    }

    /// `session` has ended: requests wait for the next connection, for up to the reconnect timeout.
    func detach(_ session: DataCenterSession) {
        state.withLockedValue { state in
            guard state.current === session else { return }
            state.current = nil
            let timeout = reconnectTimeout
            state.deadline = Task { [weak self] in
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                self?.end(OperatorClient.ConnectionEnded(after: timeout))
            }
        }
    }

    /// The session is over: waiting and later calls throw `reason`.
    func end(_ reason: any Error) {
        let ended: (waiters: [CheckedContinuation<DataCenterSession, any Error>], current: DataCenterSession?)? = state.withLockedValue { state in
            guard state.ended == nil else { return nil }
            state.ended = reason
            state.deadline?.cancel()
            defer {
                state.waiters = [:]
                state.current = nil
            }
            return (Array(state.waiters.values), state.current)
        }
        guard let ended else { return }
        for waiter in ended.waiters { waiter.resume(throwing: reason) }
        ended.current?.close()
        onEnd()
    }
}
