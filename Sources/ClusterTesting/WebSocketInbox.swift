import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// The messages a ``WebSocketTestClient`` received and not yet read, with at most one waiting reader.
final class WebSocketInbox: Sendable {
    private let state = NIOLockedValueBox(State())

    private struct State {
        var messages: [WebSocketFrame] = []
        var closeCode: WebSocketErrorCode?
        var isClosed = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    func deliver(_ frame: WebSocketFrame) {
        wake { $0.messages.append(frame) }
    }

    func closeReceived(code: WebSocketErrorCode?) {
        wake { $0.closeCode = $0.closeCode ?? code }
    }

    func connectionEnded() {
        wake { $0.isClosed = true }
    }

    func next(timeout: TimeAmount, on loop: EventLoop) async throws -> WebSocketFrame {
        try await wait(timeout: timeout, on: loop) { state in
            if !state.messages.isEmpty { return .success(state.messages.removeFirst()) }
            if state.isClosed { return .failure(WebSocketTestClient.Failure.closed(code: state.closeCode)) }
            return nil
        }
    }

    func waitForClose(timeout: TimeAmount, on loop: EventLoop) async throws -> WebSocketErrorCode? {
        try await wait(timeout: timeout, on: loop) { state in
            state.isClosed ? .success(state.closeCode) : nil
        }
    }

    private func wake(_ change: (inout State) -> Void) {
        let waiter = state.withLockedValue { state in
            change(&state)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Re-checks `ready` after every change until it gives a result or `timeout` passes.
    private func wait<T>(
        timeout: TimeAmount,
        on loop: EventLoop,
        _ ready: (inout State) -> Result<T, Error>?
    ) async throws -> T {
        let deadline = NIODeadline.now() + timeout
        while true {
            let outcome: Result<T, Error>? = state.withLockedValue { ready(&$0) }
            if let outcome { return try outcome.get() }
            guard NIODeadline.now() < deadline else { throw WebSocketTestClient.Failure.timedOut(timeout) }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let installed = state.withLockedValue { state -> Bool in
                    // Something may have arrived since the check above.
                    let pending = !state.messages.isEmpty || state.isClosed
                    guard !pending, state.waiter == nil else { return false }
                    state.waiter = continuation
                    return true
                }
                guard installed else {
                    continuation.resume()
                    return
                }
                loop.scheduleTask(deadline: deadline) { self.wake { _ in } }
            }
        }
    }
}

/// Feeds a ``WebSocketInbox`` from the client's pipeline and answers pings.
final class WebSocketInboxHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let inbox: WebSocketInbox

    init(inbox: WebSocketInbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            inbox.deliver(frame)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            var data = frame.unmaskedData
            inbox.closeReceived(code: data.readWebSocketErrorCode())
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.connectionEnded()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
