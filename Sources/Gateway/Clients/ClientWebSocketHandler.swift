import ClusterLogging
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import WebSocketFrames
import Wire

/// A WebSocket client's whole pipeline after the upgrade: reads its frames straight from the
/// received bytes (``WebSocketFrameReader``) and hands its connect, handshake, message and close
/// events to its ``ClientEventRouter``; answers pings and closes; writes what the gateway sends to
/// the client as frames, header and payload in one buffer. Message and frame buffers come from its
/// event loop's ``ByteBufferPool`` and go back to it, so the steady state allocates none.
///
/// A client that breaks the protocol is closed with the code RFC 6455 calls for (1002, 1007 for
/// text that is not UTF-8, 1009 for a message over the size limit). Anything the client sends,
/// control frames included, counts as a sign of life for the heartbeat.
final class ClientWebSocketHandler: ChannelInboundHandler, ClientWriter {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Payloads up to this size are copied behind their frame header, one buffer and one write;
    /// larger ones go out as a header buffer and the payload itself, which the socket writes as one
    /// vector.
    static let largestCopiedPayload = 16 * 1024

    /// How a client channel sizes its receive buffer, which it keeps between reads: small while the
    /// client is idle or sends small messages (most of the time, for most clients), growing with
    /// reads that fill it.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)

    private let admission: ClientAdmission
    /// Only the handshake event needs it; dropped once that is sent.
    private var upgradeRequest: HTTPRequestHead?
    private let closeTimeout: TimeAmount
    private var input: WebSocketInput
    private var router: ClientEventRouter?
    /// Set while the handler is in the pipeline: ``write(_:)`` is called from outside it.
    private var context: ChannelHandlerContext?
    /// The event loop's message and frame buffers.
    private let buffers: ByteBufferPool

    init(upgradeRequest: HTTPRequestHead, admission: ClientAdmission, buffers: ByteBufferPool, maxMessageSize: Int, closeTimeout: TimeAmount) {
        self.upgradeRequest = upgradeRequest
        self.admission = admission
        self.buffers = buffers
        self.closeTimeout = closeTimeout
        self.input = WebSocketInput(maxMessageSize: maxMessageSize)
    }

    private var events: ClientEventFrames { admission.events }
    /// Clients can make these lines happen at will: they are rate-limited.
    private var peerLog: RateLimitedLog { admission.peerLog }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let router = admission.admit(context.channel)
        if let upgradeRequest {
            router.forward(events.webSocketConnect(router.connection, request: upgradeRequest))
            self.upgradeRequest = nil
        }
        // Closed before the upgrade finished: its channelInactive went by before this handler came.
        guard context.channel.isActive else {
            admission.disconnected(router)
            return
        }
        self.router = router
        router.connection.attach(self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        router?.connection.attach(nil)
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let router, !input.isFinished else { return }
        let received = unwrapInboundIn(data)
        router.connection.counters.add(.bytesIn, received.readableBytes)
        router.connection.noteHeard()
        input.receive(received)
        while let event = input.next(buffers: buffers) {
            handle(event, router: router, context: context)
        }
    }

    private func handle(_ event: WebSocketFrameReader.Event, router: ClientEventRouter, context: ChannelHandlerContext) {
        let connection = router.connection
        switch event {
        case .message(let payload, let isBinary):
            // The event keeps the payload until its worker acknowledges it; the pool hands the
            // buffer out again only after that.
            defer { buffers.recycle(payload) }
            guard !connection.isClosing else { return }
            connection.counters.add(.messagesIn)
            router.forward(events.message(connection, payload: payload, binary: isBinary))
        case .ping(let payload):
            defer { buffers.recycle(payload) }
            // A client that pings without reading its pongs must not fill the gateway's memory:
            // RFC 6455 lets a pong answer only the latest ping.
            guard !connection.isClosing, context.channel.isWritable else { return }
            connection.counters.add(.bytesOut, 2 + payload.readableBytes)
            context.writeAndFlush(wrapOutboundOut(frameHead(.pong, payload)), promise: nil)
        case .close(let code):
            connection.counters.addClose(received: code)
            answerClose(code: code, context: context)
        case .failure(let code, let reason):
            peerLog.log(.notice, "closing client", "\(reason)", metadata: ["client": "\(connection.number)"])
            connection.close(code: code)
        }
    }

    func write(_ outbound: ClientOutbound) {
        guard let context else { return }
        switch outbound {
        case .message(let bytes, let isBinary):
            write(isBinary ? .binary : .text, bytes, context: context)
        case .raw(let bytes):
            router?.connection.counters.add(.bytesOut, bytes.readableBytes)
            context.write(wrapOutboundOut(bytes), promise: nil)
        case .shared(let shared):
            // Encoded for the loop's first client, written as it is to the others.
            let head = shared.webSocketFrame { self.frameHead($0.isBinary ? .binary : .text, $0.bytes) }
            write(head: head, payload: shared.message.bytes, context: context)
        case .close(let code, let lastMessage, let reason):
            router?.connection.counters.addClose(sent: code)
            if let lastMessage {
                write(lastMessage.isBinary ? .binary : .text, lastMessage.bytes, context: context)
            }
            closeAfter(closeFrame(code: UInt16(webSocketErrorCode: code), reason: reason, allocator: context.channel.allocator), context: context)
        }
    }

    /// Writes `payload` as one frame.
    private func write(_ opcode: WebSocketOpcode, _ payload: ByteBuffer, context: ChannelHandlerContext) {
        write(head: frameHead(opcode, payload), payload: payload, context: context)
    }

    /// Writes a frame from its ``frameHead(_:_:)`` and its payload.
    private func write(head: ByteBuffer, payload: ByteBuffer, context: ChannelHandlerContext) {
        let isCopied = payload.readableBytes <= Self.largestCopiedPayload
        router?.connection.counters.add(.bytesOut, head.readableBytes + (isCopied ? 0 : payload.readableBytes))
        context.write(wrapOutboundOut(head), promise: nil)
        if !isCopied { context.write(wrapOutboundOut(payload), promise: nil) }
    }

    /// A small payload behind its frame header, or a large one's header alone (the payload is written
    /// beside it, and the socket writes both as one vector). In a buffer of the loop's pool, back in
    /// the pool at once: the pool hands it out again only once the socket has let go of it.
    private func frameHead(_ opcode: WebSocketOpcode, _ payload: ByteBuffer) -> ByteBuffer {
        let headerLength = ByteBuffer.webSocketFrameHeaderLength(payloadLength: payload.readableBytes)
        let isCopied = payload.readableBytes <= Self.largestCopiedPayload
        var head = buffers.take(minimumCapacity: headerLength + (isCopied ? payload.readableBytes : 0))
        if isCopied {
            head.writeWebSocketFrame(opcode: opcode, payload: payload)
        } else {
            head.writeWebSocketFrameHeader(opcode: opcode, payloadLength: payload.readableBytes)
        }
        buffers.recycle(head)
        return head
    }

    /// A close frame with `code` and `reason`, or with no code (answering a close that had none).
    private func closeFrame(code: UInt16?, reason: String = "", allocator: ByteBufferAllocator) -> ByteBuffer {
        guard let code else {
            var frame = allocator.buffer(capacity: 2)
            frame.writeWebSocketFrameHeader(opcode: .connectionClose, payloadLength: 0)
            return frame
        }
        let payloadLength = 2 + reason.utf8.count
        var frame = allocator.buffer(capacity: ByteBuffer.webSocketFrameHeaderLength(payloadLength: payloadLength) + payloadLength)
        frame.writeWebSocketFrameHeader(opcode: .connectionClose, payloadLength: payloadLength)
        frame.writeInteger(code)
        frame.writeString(reason)
        return frame
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Gone without a close frame (and not for a protocol failure, counted as the close sent): 1006.
        if let router, !input.isFinished { router.connection.counters.addClose(received: 1006) }
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
        peerLog.log(.info, "closing client", "\(error)", metadata: ["client": "\(connection.number)"])
        connection.destroy()
    }

    /// Answers a client's close with the same code and closes, unless a close is under way: then
    /// this was the client's answer, and the connection ends now.
    private func answerClose(code: UInt16?, context: ChannelHandlerContext) {
        guard router?.connection.markClosing() ?? true else {
            context.close(promise: nil)
            return
        }
        closeAfter(closeFrame(code: code, allocator: context.channel.allocator), context: context)
    }

    /// Writes the close frame, then ends the connection; a client that does not take the frame
    /// (it reads nothing) is disconnected after the close timeout.
    private func closeAfter(_ closeFrame: ByteBuffer, context: ChannelHandlerContext) {
        router?.connection.counters.add(.bytesOut, closeFrame.readableBytes)
        let channel = context.channel
        let deadline = context.eventLoop.scheduleTask(in: closeTimeout) { channel.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(closeFrame)).whenComplete { _ in
            deadline.cancel()
            channel.close(promise: nil)
        }
    }
}
