import NIOCore
import NIOWebSocket

/// One WebSocket client of the ceiling server: echoes a message to its sender, or broadcasts it to
/// every client when its first byte is `B` (the cluster's echo / broadcast demo semantics).
///
/// Replies are written in `channelRead` and flushed once in `channelReadComplete`. Frames go out
/// pre-encoded as `ByteBuffer`s through `output`, the context of a `RawFrameWriter` at the head
/// of the pipeline.
final class WebSocketEchoHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    private let hub: LoopHub
    private let output: ChannelHandlerContext
    private var context: ChannelHandlerContext?
    private var flushPending = false
    /// Fragments of a message that arrived in several frames.
    private var fragments: ByteBuffer?
    private var fragmentsOpcode: WebSocketOpcode = .text
    private var closing = false
    /// Position in the hub's client list, kept by the hub.
    var hubIndex = -1

    init(hub: LoopHub, output: ChannelHandlerContext) {
        self.hub = hub
        self.output = output
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

    func write(_ frame: ByteBuffer) {
        guard context != nil, !closing else { return }
        output.write(wrapOutboundOut(frame), promise: nil)
    }

    func flush() {
        if context != nil { output.flush() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            if frame.fin {
                message(ServerFrame.encode(echoing: frame, opcode: frame.opcode, allocator: context.channel.allocator), context: context)
            } else {
                fragmentsOpcode = frame.opcode
                fragments = frame.unmaskedData
            }
        case .continuation:
            guard var buffer = fragments else { return protocolError(context: context) }
            var part = frame.unmaskedData
            buffer.writeBuffer(&part)
            if frame.fin {
                fragments = nil
                message(ServerFrame.encode(opcode: fragmentsOpcode, payload: buffer, allocator: context.channel.allocator), context: context)
            } else {
                fragments = buffer
            }
        case .ping:
            output.write(wrapOutboundOut(ServerFrame.encode(opcode: .pong, payload: frame.unmaskedData, allocator: context.channel.allocator)), promise: nil)
            flushPending = true
        case .pong:
            break
        case .connectionClose:
            close(context: context, payload: frame.unmaskedData)
        default:
            protocolError(context: context)
        }
    }

    /// `encoded` is the complete server frame; its payload starts after the header.
    private func message(_ encoded: ByteBuffer, context: ChannelHandlerContext) {
        if Self.isBroadcast(encoded) {
            hub.broadcast(encoded)
        } else {
            output.write(wrapOutboundOut(encoded), promise: nil)
        }
        flushPending = true
    }

    /// First payload byte is `B`.
    private static func isBroadcast(_ encoded: ByteBuffer) -> Bool {
        guard let second: UInt8 = encoded.getInteger(at: encoded.readerIndex + 1) else { return false }
        let length = Int(second & 0x7F)
        let headerBytes = length < 126 ? 2 : (length == 126 ? 4 : 10)
        return encoded.getInteger(at: encoded.readerIndex + headerBytes, as: UInt8.self) == UInt8(ascii: "B")
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if flushPending {
            flushPending = false
            output.flush()
        }
        context.fireChannelReadComplete()
    }

    private func close(context: ChannelHandlerContext, payload: ByteBuffer) {
        guard !closing else { return }
        let reply = ServerFrame.encode(opcode: .connectionClose, payload: payload, allocator: context.channel.allocator)
        closing = true
        hub.remove(self)
        let channel = context.channel
        output.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func protocolError(context: ChannelHandlerContext) {
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.write(webSocketErrorCode: .protocolError)
        close(context: context, payload: payload)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        hub.remove(self)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension WebSocketEchoHandler: Sendable {}

/// Sits at the head of the pipeline so that pre-encoded frames skip `WebSocketFrameEncoder`.
final class RawFrameWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
}

@available(*, unavailable)
extension RawFrameWriter: Sendable {}
