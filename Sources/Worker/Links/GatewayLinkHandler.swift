import Foundation
import Logging
import NIOCore
import Wire

/// The worker's end of one gateway link: completes the handshake, then passes every frame on.
final class GatewayLinkHandler: ChannelInboundHandler {
    typealias InboundIn = GatewayFrame
    typealias OutboundOut = GatewayFrame

    /// Why a link could not be established.
    enum HandshakeError: Error, CustomStringConvertible {
        case timedOut(TimeAmount)
        case closedBeforeAnswer
        case unexpectedFirstFrame(GatewayCommand)
        case malformedAnswer

        var description: String {
            switch self {
            case .timedOut(let timeout): return "no handshake answer within \(timeout)"
            case .closedBeforeAnswer: return "the gateway closed the link before answering the handshake"
            case .unexpectedFirstFrame(let command): return "expected a handshake answer, got \(command)"
            case .malformedAnswer: return "malformed handshake answer"
            }
        }
    }

    private let hello: WorkerHello
    private let handshakeTimeout: TimeAmount
    private let onFrame: @Sendable (GatewayFrame) -> Void
    private var handshake: EventLoopPromise<HandshakeResult>?
    private var logger: Logger

    init(
        hello: WorkerHello,
        handshakeTimeout: TimeAmount,
        handshake: EventLoopPromise<HandshakeResult>,
        logger: Logger,
        onFrame: @escaping @Sendable (GatewayFrame) -> Void
    ) {
        self.hello = hello
        self.handshakeTimeout = handshakeTimeout
        self.handshake = handshake
        self.logger = logger
        self.onFrame = onFrame
    }

    func channelActive(context: ChannelHandlerContext) {
        // Encoding a struct of two strings cannot fail.
        let body = try! JSONEncoder().encode(hello)
        context.writeAndFlush(wrapOutboundOut(GatewayFrame(command: .workerConnect, body: ByteBuffer(bytes: body))), promise: nil)
        let timeout = handshakeTimeout
        context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.failHandshake(.timedOut(timeout), context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
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
        pending.succeed(result)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failHandshake(.closedBeforeAnswer, context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
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
