import ClusterLogging
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Wire

/// The WebSocket end of a client's pipeline after the upgrade: hands the client's connect,
/// handshake, message and close events to its ``ClientEventRouter``, answers pings and closes, and
/// encodes what the gateway writes to the client as WebSocket frames. A text message that is not
/// UTF-8 closes the client with 1007; anything the client sends, control frames included, counts as
/// a sign of life for the heartbeat.
final class ClientWebSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = ClientOutbound
    typealias OutboundOut = WebSocketFrame

    private let admission: ClientAdmission
    private let request: HTTPRequestHead
    private let closeTimeout: TimeAmount
    private var router: ClientEventRouter?
    /// The frame encoder's context: raw bytes are written from there, past the encoder.
    private var encoderContext: ChannelHandlerContext?

    init(request: HTTPRequestHead, admission: ClientAdmission, closeTimeout: TimeAmount) {
        self.request = request
        self.admission = admission
        self.closeTimeout = closeTimeout
    }

    private var events: ClientEventFrames { admission.events }
    /// Clients can make these lines happen at will: they are rate-limited.
    private var peerLog: RateLimitedLog { admission.peerLog }

    func handlerAdded(context: ChannelHandlerContext) {
        encoderContext = try? context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        let router = admission.admit(context.channel)
        self.router = router
        router.forward(events.webSocketConnect(router.connection, request: request))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let router else { return }
        let connection = router.connection
        let frame = unwrapInboundIn(data)
        connection.noteHeard()
        switch frame.opcode {
        case .text, .binary:
            guard !connection.isClosing else { return }
            let payload = frame.unmaskedData
            let binary = frame.opcode == .binary
            guard binary || payload.isValidUTF8 else {
                peerLog.log(.notice, "closing client", "text message is not UTF-8", metadata: ["client": "\(connection.number)"])
                connection.close(code: .dataInconsistentWithMessage)
                return
            }
            connection.counters.add(.messagesIn)
            router.forward(events.message(connection, payload: payload, binary: binary))
        case .ping:
            guard !connection.isClosing else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            answerClose(frame, context: context)
        default:
            break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .message(let bytes, let isBinary):
            context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: isBinary ? .binary : .text, data: bytes)), promise: promise)
        case .raw(let bytes):
            guard let encoderContext else {
                promise?.fail(ChannelError.inappropriateOperationForState)
                return
            }
            encoderContext.write(NIOAny(bytes), promise: promise)
        case .close(let code, let lastMessage, let reason):
            if let lastMessage {
                let frame = WebSocketFrame(fin: true, opcode: lastMessage.isBinary ? .binary : .text, data: lastMessage.bytes)
                context.write(wrapOutboundOut(frame), promise: nil)
            }
            var codeBuffer = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
            codeBuffer.write(webSocketErrorCode: code)
            codeBuffer.writeString(reason)
            closeAfter(WebSocketFrame(fin: true, opcode: .connectionClose, data: codeBuffer), context: context, promise: promise)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let router { admission.disconnected(router) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let connection = router?.connection else {
            context.close(promise: nil)
            return
        }
        let metadata: Logger.Metadata = ["client": "\(connection.number)"]
        switch error {
        case NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge,
            NIOWebSocketFrameAggregator.Error.tooManyFragments:
            peerLog.log(.notice, "closing client", "message too big", metadata: metadata)
            connection.close(code: .messageTooLarge)
        case is NIOWebSocketFrameAggregator.Error:
            peerLog.log(.notice, "closing client", "\(error)", metadata: metadata)
            connection.close(code: .protocolError)
        default:
            peerLog.log(.info, "closing client", "\(error)", metadata: metadata)
            connection.destroy()
        }
    }

    /// Answers a client's close frame with the same code and closes, unless a close is under way.
    private func answerClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        guard router?.connection.markClosing() ?? true else {
            context.close(promise: nil)
            return
        }
        var data = frame.unmaskedData
        let code = data.readSlice(length: min(2, data.readableBytes)) ?? ByteBuffer()
        closeAfter(WebSocketFrame(fin: true, opcode: .connectionClose, data: code), context: context, promise: nil)
    }

    /// Writes the close frame, then ends the connection; a client that does not take the frame
    /// (it reads nothing) is disconnected after the close timeout.
    private func closeAfter(_ closeFrame: WebSocketFrame, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let channel = context.channel
        let deadline = context.eventLoop.scheduleTask(in: closeTimeout) { channel.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(closeFrame)).whenComplete { result in
            deadline.cancel()
            promise?.completeWith(result)
            channel.close(promise: nil)
        }
    }
}
