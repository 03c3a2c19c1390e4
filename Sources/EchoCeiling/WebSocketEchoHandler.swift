import NIOCore
import NIOWebSocket
import WebSocketFrames

/// One WebSocket client of the ceiling server, its whole pipeline after the upgrade: reads frames
/// straight from the received bytes (``WebSocketInput``) and echoes a message to its sender, or
/// broadcasts it to every client when its first byte is `B` (the cluster's echo / broadcast demo
/// semantics); answers pings and closes, and closes with the RFC 6455 code on a protocol breach.
///
/// Each reply is one buffer, frame header and payload (the header written in front of the message
/// the reader unmasked, no copy), written in `channelRead` and flushed once in `channelReadComplete`;
/// a broadcast's frame is encoded once for every client. Message buffers come from the loop's
/// ``ByteBufferPool`` and go back to it once written, so the steady state allocates none.
final class WebSocketEchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let hub: LoopHub
    private var input: WebSocketInput
    private var context: ChannelHandlerContext?
    private var flushPending = false
    private var closing = false
    /// Position in the hub's client list, kept by the hub.
    var hubIndex = -1

    init(hub: LoopHub, maxMessageSize: Int) {
        self.hub = hub
        self.input = WebSocketInput(maxMessageSize: maxMessageSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        hub.add(self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        hub.remove(self)
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        hub.remove(self)
        context.fireChannelInactive()
    }

    /// Writes a frame broadcast by the hub (flushed by `flush`).
    func write(_ frame: ByteBuffer) {
        guard let context, !closing else { return }
        context.write(wrapOutboundOut(frame), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        input.receive(unwrapInboundIn(data))
        while let event = input.next(buffers: hub.buffers) {
            handle(event, context: context)
        }
    }

    /// Takes the event whole, so that a message's buffer is this handler's alone and its frame header
    /// is written in place.
    private func handle(_ event: consuming WebSocketFrameReader.Event, context: ChannelHandlerContext) {
        switch consume event {
        case .message(var payload, let isBinary):
            guard !closing else { return }
            let isBroadcast = payload.getInteger(at: payload.readerIndex, as: UInt8.self) == UInt8(ascii: "B")
            payload.prependWebSocketFrameHeader(opcode: isBinary ? .binary : .text, allocator: context.channel.allocator)
            if isBroadcast {
                hub.broadcast(payload)
            } else {
                context.write(wrapOutboundOut(payload), promise: nil)
            }
            hub.buffers.recycle(payload)
            flushPending = true
        case .ping(var payload):
            guard !closing else { return }
            payload.prependWebSocketFrameHeader(opcode: .pong, allocator: context.channel.allocator)
            context.write(wrapOutboundOut(payload), promise: nil)
            hub.buffers.recycle(payload)
            flushPending = true
        case .close(let code):
            close(code: code, context: context)
        case .failure(let code, _):
            close(code: UInt16(webSocketErrorCode: code), context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        hub.remove(self)
        context.close(promise: nil)
    }

    /// Writes a close frame with `code` (none when nil), then closes the connection.
    private func close(code: UInt16?, context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        hub.remove(self)
        var frame = context.channel.allocator.buffer(capacity: 4)
        frame.writeWebSocketFrameHeader(opcode: .connectionClose, payloadLength: code == nil ? 0 : 2)
        if let code { frame.writeInteger(code) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension WebSocketEchoHandler: Sendable {}
