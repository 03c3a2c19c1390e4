import Logging
import NIOCore
import Wire

/// The linking end of one gateway link (a worker's or a gateway client's): proves the key by
/// challenge–response (see ``LinkHello``), checks the gateway's own proof, then passes every frame on.
package final class GatewayLinkHandler: ChannelInboundHandler, GatewayFrameReceiver {
    package typealias InboundIn = GatewayFrame
    package typealias OutboundOut = GatewayFrame

    /// Why a link could not be established.
    package enum HandshakeError: Error, CustomStringConvertible {
        case timedOut(TimeAmount)
        case closedBeforeAnswer
        case unexpectedFrame(GatewayCommand)
        case malformedAnswer
        case gatewayDidNotProveKey

        package var description: String {
            switch self {
            case .timedOut(let timeout): return "no handshake answer within \(timeout)"
            case .closedBeforeAnswer: return "the gateway closed the link before answering the handshake"
            case .unexpectedFrame(let command): return "expected a handshake answer, got \(command)"
            case .malformedAnswer: return "malformed handshake answer"
            case .gatewayDidNotProveKey: return "the gateway did not prove the secret key (a different key, or not a gateway of this cluster)"
            }
        }
    }

    private enum State {
        case awaitingChallenge(LinkHello)
        case awaitingResult(LinkHello, gatewayNonce: String)
        case linked
    }

    private let key: LinkKey
    private let helloCommand: GatewayCommand
    private let workerKey: String
    private let handshakeTimeout: TimeAmount
    private let maxFrameSize: Int
    private let onAccepted: @Sendable (HandshakeResult) -> Void
    private let onFrame: @Sendable (GatewayFrame) -> Void
    private var handshake: EventLoopPromise<HandshakeResult>?
    private var state: State?
    private let keepalive: LinkKeepalive
    private var logger: Logger
    /// This handler's context while it is in the pipeline, for the frames the decoder hands it directly.
    private var context: ChannelHandlerContext?

    /// - Parameters:
    ///   - workerKey: the worker's `name:id`, or nil for a gateway client.
    ///   - onAccepted: runs when the gateway accepts and has proven the key, before any later frame is
    ///     passed on, so whoever handles those frames can already send on the link; it gets the
    ///     gateway's answer.
    package init(
        key: LinkKey,
        workerKey: String?,
        handshakeTimeout: TimeAmount,
        maxFrameSize: Int,
        keepalive: LinkKeepalive.Policy,
        handshake: EventLoopPromise<HandshakeResult>,
        logger: Logger,
        onAccepted: @escaping @Sendable (HandshakeResult) -> Void,
        onFrame: @escaping @Sendable (GatewayFrame) -> Void
    ) {
        self.key = key
        self.helloCommand = workerKey == nil ? .gatewayClientConnect : .workerConnect
        self.workerKey = workerKey ?? "gateway-client"
        self.handshakeTimeout = handshakeTimeout
        self.maxFrameSize = maxFrameSize
        self.keepalive = LinkKeepalive(policy: keepalive)
        self.handshake = handshake
        self.logger = logger
        self.onAccepted = onAccepted
        self.onFrame = onFrame
    }

    package func channelActive(context: ChannelHandlerContext) {
        let hello = LinkHello(workerKey: workerKey, nonce: LinkKey.makeNonce(), maxFrameSize: maxFrameSize)
        state = .awaitingChallenge(hello)
        context.writeAndFlush(wrapOutboundOut(.handshake(helloCommand, hello)), promise: nil)
        let timeout = handshakeTimeout
        context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.failHandshake(.timedOut(timeout), context: context)
        }
        context.fireChannelActive()
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    package func receive(_ frame: GatewayFrame) -> Bool {
        guard let context else { return false }
        handle(frame, context: context)
        return true
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        handle(unwrapInboundIn(data), context: context)
    }

    private func handle(_ frame: GatewayFrame, context: ChannelHandlerContext) {
        keepalive.heard()
        switch state {
        case .linked:
            if frame.command != .ping { onFrame(frame) }
        case .awaitingChallenge(let hello):
            answerChallenge(frame, hello: hello, context: context)
        case .awaitingResult(let hello, let gatewayNonce):
            checkResult(frame, hello: hello, gatewayNonce: gatewayNonce, context: context)
        case nil:
            break
        }
    }

    package func channelInactive(context: ChannelHandlerContext) {
        keepalive.stop()
        failHandshake(.closedBeforeAnswer, context: context)
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: Error) {
        if case GatewayFrameError.frameTooLarge = error {
            // Outbound: that frame alone was not written; the link is intact.
            logger.error("not sent to the gateway: \(error)")
            return
        }
        logger.error("closing gateway link: \(error)")
        context.close(promise: nil)
    }

    private func answerChallenge(_ frame: GatewayFrame, hello: LinkHello, context: ChannelHandlerContext) {
        if frame.command == .handshakeResult {
            // A refusal before the challenge (a malformed hello, say).
            return checkResult(frame, hello: hello, gatewayNonce: "", context: context)
        }
        guard frame.command == .linkChallenge else {
            return failHandshake(.unexpectedFrame(frame.command), context: context)
        }
        guard let challenge = frame.handshakeMessage(as: LinkChallenge.self) else {
            return failHandshake(.malformedAnswer, context: context)
        }
        state = .awaitingResult(hello, gatewayNonce: challenge.nonce)
        let proof = LinkProof(proof: key.proof(of: .linking, hello: hello, gatewayNonce: challenge.nonce))
        context.writeAndFlush(wrapOutboundOut(.handshake(.linkProof, proof)), promise: nil)
    }

    private func checkResult(_ frame: GatewayFrame, hello: LinkHello, gatewayNonce: String, context: ChannelHandlerContext) {
        guard frame.command == .handshakeResult else {
            return failHandshake(.unexpectedFrame(frame.command), context: context)
        }
        guard let result = frame.handshakeMessage(as: HandshakeResult.self) else {
            return failHandshake(.malformedAnswer, context: context)
        }
        guard let pending = handshake else { return }
        guard result.accepted else {
            handshake = nil
            state = nil
            pending.succeed(result)
            return
        }
        guard let proof = result.proof, key.verify(proof, of: .gateway, hello: hello, gatewayNonce: gatewayNonce) else {
            return failHandshake(.gatewayDidNotProveKey, context: context)
        }
        handshake = nil
        state = .linked
        keepalive.start(context: context) {
            self.logger.warning("nothing heard from the gateway for \(self.keepalive.policy.deadAfter): closing the link")
            context.close(promise: nil)
        }
        onAccepted(result)
        pending.succeed(result)
    }

    private func failHandshake(_ error: HandshakeError, context: ChannelHandlerContext) {
        guard let pending = handshake else { return }
        handshake = nil
        state = nil
        pending.fail(error)
        context.close(promise: nil)
    }
}
