import ClusterLogging
import Logging
import NIOCore
import NIOWebSocket
import Wire

/// The end of a text-port client's pipeline, after a ``TextLineDecoder``: the sibling of
/// ``ClientWebSocketHandler`` for clients that speak newline-delimited text over plain TCP.
///
/// The client gets a client id from the same ``ClientDirectory`` and its connect, message and close
/// events go to a worker through a ``ClientEventRouter`` exactly like a WebSocket client's; each
/// line is one text message. There is no `onWebSocketConnect` event: there is no HTTP request, and
/// `onConnect` already carries the remote address.
///
/// What the gateway writes to the client goes out as lines: a message is its bytes and `\n` (a
/// message that itself holds newlines arrives as several lines); a close is the last message's line,
/// if any, then the end of the TCP connection (the close code has no text equivalent). Input after a
/// close has started is dropped. A line that is
/// too long or not UTF-8 gets an `ERROR ...` line and the connection is closed.
///
/// A client that ends its side of the connection (`printf '...\n' | nc`) still gets the replies to
/// its lines: the gateway closes once nothing has been written to it for ``halfClosedIdleTimeout``.
final class ClientTextLineHandler: ChannelInboundHandler, ClientWriter {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let newline = ByteBuffer(string: "\n")

    private let admission: ClientAdmission
    private var router: ClientEventRouter?
    /// Set while the handler is in the pipeline: ``write(_:)`` is called from outside it.
    private var context: ChannelHandlerContext?
    /// When the client ended its side: the last write since (or that moment), for the idle close.
    private var lastWriteAfterInputClosed: NIODeadline?

    init(admission: ClientAdmission) {
        self.admission = admission
    }

    private var events: ClientEventFrames { admission.events }
    /// Clients can make these lines happen at will: they are rate-limited.
    private var peerLog: RateLimitedLog { admission.peerLog }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        router?.connection.attach(nil)
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        let router = admission.admit(context.channel)
        router.connection.attach(self)
        self.router = router
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let router, !router.connection.isClosing else { return }
        router.connection.noteHeard()
        router.connection.counters.add(.messagesIn)
        router.connection.counters.add(.bytesIn, unwrapInboundIn(data).readableBytes + 1)
        router.forward(events.message(router.connection, payload: unwrapInboundIn(data), binary: false))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else { return context.fireUserInboundEventTriggered(event) }
        guard let connection = router?.connection, !connection.isClosing else {
            // Our side is already ending (lingering close): both sides are done.
            return context.close(promise: nil)
        }
        lastWriteAfterInputClosed = .now()
        scheduleIdleClose(context: context, connection: connection)
    }

    /// Closes the half-closed client once nothing was written to it for ``halfClosedIdleTimeout``.
    private func scheduleIdleClose(context: ChannelHandlerContext, connection: ClientConnection) {
        guard let lastWrite = lastWriteAfterInputClosed else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: lastWrite + Self.halfClosedIdleTimeout) {
            let (handler, context) = loopBound.value
            guard !connection.isClosing, let lastWrite = handler.lastWriteAfterInputClosed else { return }
            if NIODeadline.now() >= lastWrite + Self.halfClosedIdleTimeout {
                connection.close(code: .normalClosure)
            } else {
                handler.scheduleIdleClose(context: context, connection: connection)
            }
        }
    }

    /// How long a client that ended its side is kept while replies may still come to it.
    static let halfClosedIdleTimeout = TimeAmount.seconds(2)

    private func writeLine(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        router?.connection.counters.add(.bytesOut, bytes.readableBytes + 1)
        context.write(wrapOutboundOut(bytes), promise: nil)
        context.write(wrapOutboundOut(Self.newline), promise: nil)
    }

    func write(_ outbound: ClientOutbound) {
        guard let context else { return }
        if lastWriteAfterInputClosed != nil { lastWriteAfterInputClosed = .now() }
        switch outbound {
        case .message(let bytes, _):
            writeLine(bytes, context: context)
        case .shared(let shared):
            writeLine(shared.message.bytes, context: context)
        case .raw(let bytes):
            router?.connection.counters.add(.bytesOut, bytes.readableBytes)
            context.write(wrapOutboundOut(bytes), promise: nil)
        case .close(_, let lastMessage, _):
            let written: EventLoopFuture<Void>
            if let lastMessage {
                context.write(wrapOutboundOut(lastMessage.bytes), promise: nil)
                written = context.writeAndFlush(wrapOutboundOut(Self.newline))
            } else {
                written = context.eventLoop.makeSucceededVoidFuture()
            }
            let channel = context.channel
            written.whenComplete { _ in
                Self.lingeringClose(channel)
            }
        }
    }

    /// Ends our side with a FIN and closes fully when the client has closed its side, or after
    /// ``lingerTimeout``. Closing at once while the client's bytes sit unread (it was still sending
    /// the line that got an error) would make the kernel answer with a reset, and a reset can destroy
    /// the last line before the client reads it. Meanwhile input is read and dropped.
    private static func lingeringClose(_ channel: Channel) {
        channel.close(mode: .output).whenComplete { result in
            guard case .success = result else {
                channel.close(promise: nil)
                return
            }
            channel.eventLoop.scheduleTask(in: lingerTimeout) { channel.close(promise: nil) }
        }
    }

    /// How long a closing client may keep its side open before the gateway closes it anyway.
    static let lingerTimeout = TimeAmount.seconds(2)

    func channelInactive(context: ChannelHandlerContext) {
        if let router {
            router.connection.attach(nil)
            admission.disconnected(router)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let connection = router?.connection else {
            context.close(promise: nil)
            return
        }
        let metadata: Logger.Metadata = ["client": "\(connection.number)", "port": "text"]
        switch error {
        case let error as TextLineError:
            if case .unterminatedLastLine = error {
                // The connection is ending anyway; nothing to answer.
                peerLog.log(.info, "text client", "\(error)", metadata: metadata)
                return
            }
            peerLog.log(.notice, "closing text client", "\(error)", metadata: metadata)
            let line = ByteBuffer(string: error.errorLine)
            connection.close(code: .protocolError, lastMessage: .init(bytes: line, isBinary: false))
        case ByteToMessageDecoderError.dataReceivedInErrorState:
            // The client kept sending after a bad line; the close is under way and the bytes are dropped.
            break
        default:
            peerLog.log(.info, "closing text client", "\(error)", metadata: metadata)
            connection.destroy()
        }
    }
}
