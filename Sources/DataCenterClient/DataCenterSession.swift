import DataCenterProtocol
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// One connection to a gateway speaking the DataCenter envelope: sends requests and matches their
/// replies by id, sends events and replies. Valid while its connection is open; after that every
/// call throws ``Closed``.
public final class DataCenterSession: Sendable {
    /// The connection has closed; a request waiting for its reply gets this.
    public struct Closed: Error, CustomStringConvertible {
        public var description: String { "the connection to the gateway closed" }
    }

    /// No reply came within the request timeout.
    public struct TimedOut: Error, CustomStringConvertible {
        public let operation: String
        public var description: String { "no reply to \(operation) in time" }
    }

    /// A request's place while it waits: sent, then either its caller waits or its reply came first.
    private enum Slot {
        case expected
        case waiting(CheckedContinuation<InboundMessage, any Error>)
        case arrived(InboundMessage)
    }

    private struct State {
        var nextID = 0
        var pending: [String: Slot] = [:]
        var closed = false
        var lastReceived = ContinuousClock.now
    }

    /// The gateway this session is connected to.
    public let endpoint: GatewayEndpoint
    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    private let channel: any Channel
    private let requestTimeout: Duration
    private let state = NIOLockedValueBox(State())

    init(endpoint: GatewayEndpoint, outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>, channel: any Channel, requestTimeout: Duration) {
        self.endpoint = endpoint
        self.outbound = outbound
        self.channel = channel
        self.requestTimeout = requestTimeout
    }

    /// A request that has been written and whose reply is still to come.
    public struct PendingReply: Sendable {
        let session: DataCenterSession
        let id: String
        let operation: OperationName

        /// Waits for the reply.
        /// - Throws: the reply's `ProtocolError` when it failed, ``TimedOut``, or ``Closed``.
        @discardableResult
        public func value(timeout: Duration? = nil) async throws -> InboundMessage {
            let reply = try await withThrowingTaskGroup(of: InboundMessage?.self) { group in
                group.addTask { try await session.waitForReply(to: id) }
                group.addTask {
                    // Cancelled: the waiter's own answer (a reply that came, or the cancellation) counts.
                    guard (try? await Task.sleep(for: timeout ?? session.requestTimeout)) != nil else { return nil }
                    throw TimedOut(operation: operation.rawValue)
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let reply = result { return reply }
                }
                throw CancellationError()
            }
            if case .reply(_, let error?) = reply.kind { throw error }
            return reply
        }
    }

    /// Sends a request and waits for its reply.
    /// - Returns: the reply (its `data` through `payload(_:)`).
    /// - Throws: the reply's `ProtocolError` when it failed, ``TimedOut``, or ``Closed``.
    @discardableResult
    public func request(_ operation: OperationName, _ data: some Encodable & Sendable, timeout: Duration? = nil) async throws -> InboundMessage {
        try await post(operation, data).value(timeout: timeout)
    }

    /// Writes a request without waiting for its reply: requests posted one after the other go out
    /// in that order, and their replies are awaited later (a pipelined stream of job output).
    public func post(_ operation: OperationName, _ data: some Encodable & Sendable) async throws -> PendingReply {
        let id: String? = state.withLockedValue { state in
            guard !state.closed else { return nil }
            state.nextID += 1
            let id = String(state.nextID)
            state.pending[id] = .expected
            return id
        }
        guard let id else { throw Closed() }
        do {
            try await write(Envelope.request(id: id, op: operation, data: data))
        } catch {
            state.withLockedValue { _ = $0.pending.removeValue(forKey: id) }
            throw error
        }
        return PendingReply(session: self, id: id, operation: operation)
    }

    /// Sends an event (no reply).
    public func send(event: EventName, _ data: some Encodable & Sendable) async throws {
        try await write(Envelope.event(event, data: data))
    }

    /// Answers the request `id`.
    public func reply(to id: String, _ data: some Encodable & Sendable) async throws {
        try await write(Envelope.reply(to: id, data: data))
    }

    /// Answers the request `id` with an error.
    public func reply(to id: String, error: ProtocolError) async throws {
        try await write(Envelope.reply(to: id, error: error))
    }

    /// Closes the connection (the client then reconnects).
    public func close() {
        channel.close(promise: nil)
    }

    // MARK: - Driven by the client

    func write(_ text: String) async throws {
        guard !state.withLockedValue(\.closed) else { throw Closed() }
        try await writeFrame(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text)))
    }

    /// Client frames are masked (RFC 6455 5.3); the frame encoder applies the key.
    func writeFrame(_ frame: WebSocketFrame) async throws {
        try await outbound.write(frame)
    }

    func noteReceived() {
        state.withLockedValue { $0.lastReceived = .now }
    }

    var lastReceived: ContinuousClock.Instant { state.withLockedValue(\.lastReceived) }

    /// True once the connection has ended.
    var isClosed: Bool { state.withLockedValue(\.closed) }

    /// Hands a reply to the request waiting for it; false when none is (a late reply after a timeout).
    func deliver(reply: InboundMessage, to id: String) -> Bool {
        let waiter: CheckedContinuation<InboundMessage, any Error>? = state.withLockedValue { state in
            switch state.pending[id] {
            case .expected?:
                state.pending[id] = .arrived(reply)
                return nil
            case .waiting(let continuation)?:
                state.pending[id] = nil
                return continuation
            case .arrived?, nil:
                return nil
            }
        }
        guard let waiter else { return state.withLockedValue { $0.pending[id] != nil } }
        waiter.resume(returning: reply)
        return true
    }

    /// Fails every request still waiting for its reply (replies that arrived stay for their callers);
    /// later calls throw ``Closed``.
    func markClosed() {
        let waiters = state.withLockedValue { state in
            state.closed = true
            var waiters: [CheckedContinuation<InboundMessage, any Error>] = []
            for (id, slot) in state.pending {
                switch slot {
                case .waiting(let continuation):
                    waiters.append(continuation)
                    state.pending[id] = nil
                case .expected:
                    state.pending[id] = nil
                case .arrived:
                    continue
                }
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(throwing: Closed()) }
    }

    /// Waits for the reply to the posted request `id`; a reply that came back before the caller
    /// started waiting is kept in its slot.
    private func waitForReply(to id: String) async throws -> InboundMessage {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<InboundMessage, any Error>) in
                let early: Result<InboundMessage, any Error>? = state.withLockedValue { state in
                    switch state.pending[id] {
                    case .arrived(let reply)?:
                        state.pending[id] = nil
                        return .success(reply)
                    case .expected?:
                        state.pending[id] = .waiting(continuation)
                        return nil
                    case .waiting?, nil:
                        return .failure(state.closed ? Closed() : CancellationError())
                    }
                }
                if let early { continuation.resume(with: early) }
            }
        } onCancel: {
            // A reply that has arrived is still handed over: an auth_failed that came just before the
            // close that cancels its waiter is the reason to report, not the cancellation.
            let waiter: CheckedContinuation<InboundMessage, any Error>? = state.withLockedValue { state in
                switch state.pending[id] {
                case .waiting(let continuation)?:
                    state.pending[id] = nil
                    return continuation
                case .expected?:
                    state.pending[id] = nil
                    return nil
                case .arrived?, nil:
                    return nil
                }
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
