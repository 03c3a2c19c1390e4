import NIOCore
import NIOWebSocket

/// What a mode does with one connection; called on the connection's event loop only.
protocol ClientSession: AnyObject {
    /// The WebSocket is open.
    func opened(_ connection: WebSocketClientHandler)
    /// A text or binary message arrived (unmasked server data) at `nanos` (monotonic clock).
    func received(_ data: ByteBuffer, nanos: UInt64)
    /// The connection closed, for whatever reason.
    func closed()
}

/// The client end of one WebSocket: sends masked text frames for its session and hands it every
/// message; answers pings, completes the close handshake and counts errors in its loop's state.
final class WebSocketClientHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let session: ClientSession
    private let state: LoopState
    private var context: ChannelHandlerContext?
    private var isClosed = false

    init(session: ClientSession, state: LoopState) {
        self.session = session
        self.state = state
    }

    var isOpen: Bool { context != nil && !isClosed }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        session.opened(self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        markClosed()
        self.context = nil
    }

    /// Sends one text message (masked, as RFC 6455 requires of clients) and flushes it.
    func sendText(_ payload: ByteBuffer) {
        guard let context, !isClosed else { return }
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: state.nextMaskKey(), data: payload)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    func close() {
        guard let context, !isClosed else { return }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            session.received(frame.data, nanos: Clock.nanos())
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: state.nextMaskKey(), data: frame.data)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            state.counters.serverCloses += 1
            var payload = context.channel.allocator.buffer(capacity: 2)
            payload.write(webSocketErrorCode: .normalClosure)
            let reply = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: state.nextMaskKey(), data: payload)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        markClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        state.recordError(error)
        context.close(promise: nil)
    }

    private func markClosed() {
        guard !isClosed else { return }
        isClosed = true
        session.closed()
    }
}

@available(*, unavailable)
extension WebSocketClientHandler: Sendable {}
