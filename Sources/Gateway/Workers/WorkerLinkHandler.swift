import ClusterLogging
import Logging
import NIOCore
import Wire

/// One inbound link on the internal port: the linking side (a worker or a gateway client) must prove
/// the secret key by challenge–response (see ``LinkHello``) before its deadline, sending at most
/// ``PreAuthenticationLimit/maximumBytes`` meanwhile; after that its frames are commands about clients.
final class WorkerLinkHandler: ChannelInboundHandler, GatewayFrameReceiver {
    typealias InboundIn = GatewayFrame
    typealias OutboundOut = GatewayFrame

    private enum State {
        case awaitingHello
        case awaitingProof(LinkHello, gatewayNonce: String, isWorker: Bool)
        case linked(WorkerLink)
        case refused
    }

    private let lane: Int
    private let lanePorts: [UInt16]
    private let key: LinkKey
    private let helloTimeout: TimeAmount
    private let maxFrameSize: Int
    private let maxBacklogBytes: Int
    private let links: WorkerLinkTable
    private let unauthenticated: UnauthenticatedLinks
    private let commands: WorkerCommandExecutor
    private let counters: GatewayCounters
    private let peerLog: RateLimitedLog
    private let keepalive: LinkKeepalive
    private var logger: Logger
    private var state = State.awaitingHello
    private var deadline: Scheduled<Void>?
    private var holdsUnauthenticatedPlace = false
    /// This handler's context while it is in the pipeline, for the frames the decoder hands it directly.
    private var context: ChannelHandlerContext?

    /// - Parameters:
    ///   - lane: the index of the event loop whose listener took this link.
    ///   - lanePorts: every loop's internal port, told to the linking side when it is accepted.
    init(
        lane: Int,
        lanePorts: [UInt16],
        key: LinkKey,
        helloTimeout: TimeAmount,
        maxFrameSize: Int,
        keepalive: LinkKeepalive.Policy,
        maxBacklogBytes: Int,
        links: WorkerLinkTable,
        unauthenticated: UnauthenticatedLinks,
        commands: WorkerCommandExecutor,
        logger: Logger,
        peerLog: RateLimitedLog,
        counters: GatewayCounters
    ) {
        self.lane = lane
        self.lanePorts = lanePorts
        self.key = key
        self.helloTimeout = helloTimeout
        self.maxFrameSize = maxFrameSize
        self.maxBacklogBytes = maxBacklogBytes
        self.links = links
        self.unauthenticated = unauthenticated
        self.commands = commands
        self.counters = counters
        self.logger = logger
        self.peerLog = peerLog
        self.keepalive = LinkKeepalive(policy: keepalive)
    }

    func channelActive(context: ChannelHandlerContext) {
        logger[metadataKey: "peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        guard unauthenticated.enter() else {
            state = .refused
            counters.shard(for: context.eventLoop).add(.linksRefused)
            peerLog.log(
                .warning,
                "refused worker link",
                "\(unauthenticated.limit) links are already waiting to prove the key",
                metadata: ["peer": logger[metadataKey: "peer"] ?? "?"]
            )
            context.close(promise: nil)
            return
        }
        holdsUnauthenticatedPlace = true
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: helloTimeout) {
            self.refuse(context: context, reason: "no proof of the key within \(self.helloTimeout)")
        }
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func receive(_ frame: GatewayFrame) -> Bool {
        guard let context else { return false }
        handle(frame, context: context)
        return true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        handle(unwrapInboundIn(data), context: context)
    }

    private func handle(_ frame: GatewayFrame, context: ChannelHandlerContext) {
        keepalive.heard()
        switch state {
        case .linked(let link):
            switch frame.command {
            case .ping:
                break
            case .acknowledge:
                acknowledge(frame, link: link, context: context)
            case .workerLeaving:
                logger.notice("worker leaving: routing no new events to it", metadata: ["worker": "\(link)"])
                link.stopAccepting()
            default:
                commands.execute(frame, from: link)
            }
        case .awaitingHello:
            challenge(frame, context: context)
        case .awaitingProof(let hello, let gatewayNonce, let isWorker):
            verify(frame, hello: hello, gatewayNonce: gatewayNonce, isWorker: isWorker, context: context)
        case .refused:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        keepalive.stop()
        leaveUnauthenticated()
        if case .linked(let link) = state {
            links.remove(link)
            let handedBack = link.handBack()
            counters.shard(for: context.eventLoop).add(.redeliveredEvents, handedBack)
            logger.notice("worker link closed", metadata: ["worker": "\(link)", "redelivering": "\(handedBack)"])
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch state {
        case .awaitingHello, .awaitingProof:
            refuse(context: context, reason: "\(error)")
        case .linked(let link):
            if case GatewayFrameError.frameTooLarge = error {
                // Outbound: that frame alone was not written; the link is intact.
                peerLog.log(.error, "frame not sent to a worker", "\(error)", metadata: ["worker": "\(link)"])
                return
            }
            peerLog.log(.error, "closing worker link", "\(error)", metadata: ["worker": "\(link)"])
            context.close(promise: nil)
        case .refused:
            context.close(promise: nil)
        }
    }

    private func acknowledge(_ frame: GatewayFrame, link: WorkerLink, context: ChannelHandlerContext) {
        do {
            guard let count = frame.acknowledgedEventCount else {
                throw GatewayFrameError.malformedBody(frame.command)
            }
            try link.acknowledge(count, handledBeyond: frame.acknowledgedEventsBeyondCount)
        } catch {
            errorCaught(context: context, error: error)
        }
    }

    /// Answers a hello with this gateway's nonce.
    private func challenge(_ frame: GatewayFrame, context: ChannelHandlerContext) {
        guard frame.command == .workerConnect || frame.command == .gatewayClientConnect else {
            refuse(context: context, reason: "first frame must be WORKER_CONNECT or GATEWAY_CLIENT_CONNECT, got \(frame.command)")
            return
        }
        guard let hello = frame.handshakeMessage(as: LinkHello.self) else {
            refuse(context: context, reason: "malformed hello")
            return
        }
        if let theirs = hello.maxFrameSize, theirs < maxFrameSize {
            refuse(
                context: context,
                reason: "it accepts frames up to \(theirs) bytes and this gateway sends up to \(maxFrameSize): give gateways and workers the same --max-link-frame-size",
                worker: hello.workerKey
            )
            return
        }
        let nonce = LinkKey.makeNonce()
        state = .awaitingProof(hello, gatewayNonce: nonce, isWorker: frame.command == .workerConnect)
        context.writeAndFlush(wrapOutboundOut(.handshake(.linkChallenge, LinkChallenge(nonce: nonce))), promise: nil)
    }

    /// Checks the linking side's proof; on success answers with the gateway's and lists the link.
    private func verify(_ frame: GatewayFrame, hello: LinkHello, gatewayNonce: String, isWorker: Bool, context: ChannelHandlerContext) {
        guard frame.command == .linkProof, let proof = frame.handshakeMessage(as: LinkProof.self) else {
            refuse(context: context, reason: "expected a proof of the key, got \(frame.command)", worker: hello.workerKey)
            return
        }
        guard key.verify(proof.proof, of: .linking, hello: hello, gatewayNonce: gatewayNonce) else {
            refuse(context: context, reason: "wrong secret key", worker: hello.workerKey)
            return
        }
        leaveUnauthenticated()
        context.pipeline.syncOperations.removeHandler(name: PreAuthenticationLimit.name, promise: nil)
        let link = WorkerLink(
            id: links.makeLinkID(),
            workerKey: hello.workerKey.escapedForLog,
            lane: lane,
            channel: context.channel,
            routable: isWorker,
            maxBacklogBytes: maxBacklogBytes,
            maxFrameSize: maxFrameSize,
            frameEncoder: (try? context.pipeline.syncOperations.handler(type: GatewayFrameEncoder.self)).map {
                NIOLoopBound($0, eventLoop: context.eventLoop)
            },
            logger: logger
        )
        state = .linked(link)
        keepalive.start(context: context) {
            self.peerLog.log(.warning, "worker link silent", "nothing heard for \(self.keepalive.policy.deadAfter); closing it", metadata: ["worker": "\(link)"])
            context.close(promise: nil)
        }
        let gatewayProof = key.proof(of: .gateway, hello: hello, gatewayNonce: gatewayNonce)
        context.writeAndFlush(
            wrapOutboundOut(.handshake(.handshakeResult, HandshakeResult(accepted: true, proof: gatewayProof, lanePorts: lanePorts, lane: lane, acknowledgementTrailers: true))),
            promise: nil
        )
        if isWorker {
            links.add(link)
            logger.notice("worker linked", metadata: ["worker": "\(link)"])
        } else {
            logger.info("gateway client linked", metadata: ["client": "\(link)"])
        }
    }

    private func refuse(context: ChannelHandlerContext, reason: String, worker: String? = nil) {
        switch state {
        case .awaitingHello, .awaitingProof: break
        case .linked, .refused: return
        }
        state = .refused
        leaveUnauthenticated()
        counters.shard(for: context.eventLoop).add(.linksRefused)
        var metadata: Logger.Metadata = [:]
        if let worker { metadata["worker"] = "\(worker.escapedForLog)" }
        metadata["peer"] = logger[metadataKey: "peer"]
        peerLog.log(.warning, "refused worker link", "\(reason)", metadata: metadata)
        let result = GatewayFrame.handshake(.handshakeResult, HandshakeResult(accepted: false, reason: reason))
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(result)).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Gives back the unauthenticated place and cancels the deadline, once.
    private func leaveUnauthenticated() {
        deadline?.cancel()
        deadline = nil
        guard holdsUnauthenticatedPlace else { return }
        holdsUnauthenticatedPlace = false
        unauthenticated.leave()
    }
}
