import Foundation
import Logging
import NIOCore
import Wire

/// The linking end of one gateway link (a worker's or a gateway client's): sends the hello, completes
/// the handshake, then passes every frame on.
package final class GatewayLinkHandler: ChannelInboundHandler {
    package typealias InboundIn = GatewayFrame
    package typealias OutboundOut = GatewayFrame

    /// Why a link could not be established.
    package enum HandshakeError: Error, CustomStringConvertible {
        case timedOut(TimeAmount)
        case closedBeforeAnswer
        case unexpectedFirstFrame(GatewayCommand)
        case malformedAnswer

        package var description: String {
            switch self {
            case .timedOut(let timeout): return "no handshake answer within \(timeout)"
            case .closedBeforeAnswer: return "the gateway closed the link before answering the handshake"
            case .unexpectedFirstFrame(let command): return "expected a handshake answer, got \(command)"
            case .malformedAnswer: return "malformed handshake answer"
            }
        }
    }

    private let hello: GatewayFrame
    private let handshakeTimeout: TimeAmount
    private let onAccepted: @Sendable () -> Void
    private let onFrame: @Sendable (GatewayFrame) -> Void
    private var handshake: EventLoopPromise<HandshakeResult>?
    private var logger: Logger

    /// - Parameters:
    ///   - onAccepted: runs when the gateway accepts the hello, before any later frame is passed on,
    ///     so whoever handles those frames can already send on the link.
    package init(
        hello: GatewayFrame,
        handshakeTimeout: TimeAmount,
        handshake: EventLoopPromise<HandshakeResult>,
        logger: Logger,
        onAccepted: @escaping @Sendable () -> Void,
        onFrame: @escaping @Sendable (GatewayFrame) -> Void
    ) {
        self.hello = hello
        self.handshakeTimeout = handshakeTimeout
        self.handshake = handshake
        self.logger = logger
        self.onAccepted = onAccepted
        self.onFrame = onFrame
    }

    package func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(hello), promise: nil)
        let timeout = handshakeTimeout
        context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.failHandshake(.timedOut(timeout), context: context)
        }
        context.fireChannelActive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let pending = handshake else {
            onFrame(frame)
            return
        }
        guard frame.command == .handshakeResult else {
            failHandshake(.unexpectedFirstFrame(frame.command), context: context)
            return
        }
        guard let result = try? JSONDecoder().decode(HandshakeResult.self, from: Data(frame.body.readableBytesView)) else {
            failHandshake(.malformedAnswer, context: context)
            return
        }
        handshake = nil
        if result.accepted { onAccepted() }
        pending.succeed(result)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        failHandshake(.closedBeforeAnswer, context: context)
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.error("closing gateway link: \(error)")
        context.close(promise: nil)
    }

    private func failHandshake(_ error: HandshakeError, context: ChannelHandlerContext) {
        guard let pending = handshake else { return }
        handshake = nil
        pending.fail(error)
        context.close(promise: nil)
    }
}
