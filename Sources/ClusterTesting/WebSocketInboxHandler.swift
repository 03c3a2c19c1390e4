import NIOCore
import NIOWebSocket

/// Feeds a ``WebSocketTestClient``'s inbox from its pipeline, answers pings, and records the close
/// code the server sent.
final class WebSocketInboxHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let inbox: TestInbox<WebSocketFrame, WebSocketErrorCode?>
    private var closeCode: WebSocketErrorCode?

    init(inbox: TestInbox<WebSocketFrame, WebSocketErrorCode?>) {
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
            closeCode = closeCode ?? data.readWebSocketErrorCode()
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.end(closeCode)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
