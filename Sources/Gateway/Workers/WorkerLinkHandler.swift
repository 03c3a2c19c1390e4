import Foundation
import Logging
import NIOCore
import Wire

/// One inbound link on the internal port: the worker must prove the secret key in its first frame;
/// after that its frames are commands about clients.
final class WorkerLinkHandler: ChannelInboundHandler {
    typealias InboundIn = GatewayFrame
    typealias OutboundOut = GatewayFrame

    private enum State {
        case awaitingHello(Scheduled<Void>?)
        case linked(WorkerLink)
        case refused
    }

    private let secretKey: String
    private let helloTimeout: TimeAmount
    private let maxBacklogBytes: Int
    private let links: WorkerLinkTable
    private let commands: WorkerCommandExecutor
    private let counters: GatewayCounters
    private var logger: Logger
    private var state = State.awaitingHello(nil)

    init(
        secretKey: String,
        helloTimeout: TimeAmount,
        maxBacklogBytes: Int,
        links: WorkerLinkTable,
        commands: WorkerCommandExecutor,
        logger: Logger,
        counters: GatewayCounters
    ) {
        self.secretKey = secretKey
        self.helloTimeout = helloTimeout
        self.maxBacklogBytes = maxBacklogBytes
        self.links = links
        self.commands = commands
        self.counters = counters
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        logger[metadataKey: "peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: helloTimeout) {
            self.refuse(context: context, reason: "no hello within \(self.helloTimeout)")
        }
        state = .awaitingHello(timeout)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch state {
        case .linked(let link):
            switch frame.command {
            case .acknowledge:
                acknowledge(frame, link: link, context: context)
            case .workerLeaving:
                logger.notice("worker leaving: routing no new events to it", metadata: ["worker": "\(link)"])
                link.stopAccepting()
            default:
                commands.execute(frame, from: link)
            }
        case .awaitingHello(let timeout):
            timeout?.cancel()
            authenticate(frame, context: context)
        case .refused:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .linked(let link) = state {
            links.remove(link)
            let handedBack = link.handBack()
            counters.shard(for: context.eventLoop).add(.redeliveredEvents, handedBack)
            logger.notice("worker link closed", metadata: ["worker": "\(link)", "redelivering": "\(handedBack)"])
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.error("closing worker link: \(error)")
        context.close(promise: nil)
    }

    private func acknowledge(_ frame: GatewayFrame, link: WorkerLink, context: ChannelHandlerContext) {
        do {
            guard let count = frame.acknowledgedEventCount else {
                throw GatewayFrameError.malformedBody(frame.command)
            }
            try link.acknowledge(count)
        } catch {
            errorCaught(context: context, error: error)
        }
    }

    private func authenticate(_ frame: GatewayFrame, context: ChannelHandlerContext) {
        guard frame.command == .workerConnect || frame.command == .gatewayClientConnect else {
            refuse(context: context, reason: "first frame must be WORKER_CONNECT or GATEWAY_CLIENT_CONNECT, got \(frame.command)")
            return
        }
        let isWorker = frame.command == .workerConnect
        guard let hello = try? JSONDecoder().decode(WorkerHello.self, from: Data(frame.body.readableBytesView)) else {
            refuse(context: context, reason: "malformed WORKER_CONNECT body")
            return
        }
        guard secretsMatch(hello.secretKey, secretKey) else {
            refuse(context: context, reason: "wrong secret key", worker: hello.workerKey)
            return
        }
        let link = WorkerLink(
            id: links.makeLinkID(),
            workerKey: hello.workerKey,
            channel: context.channel,
            routable: isWorker,
            maxBacklogBytes: maxBacklogBytes,
            logger: logger
        )
        state = .linked(link)
        context.writeAndFlush(wrapOutboundOut(Self.result(HandshakeResult(accepted: true))), promise: nil)
        if isWorker {
            links.add(link)
            logger.notice("worker linked", metadata: ["worker": "\(link)"])
        } else {
            logger.info("gateway client linked", metadata: ["client": "\(link)"])
        }
    }

    private func refuse(context: ChannelHandlerContext, reason: String, worker: String? = nil) {
        guard case .awaitingHello = state else { return }
        state = .refused
        var metadata: Logger.Metadata = ["reason": "\(reason)"]
        if let worker { metadata["worker"] = "\(worker)" }
        logger.warning("refused worker link", metadata: metadata)
        let result = Self.result(HandshakeResult(accepted: false, reason: reason))
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(result)).whenComplete { _ in channel.close(promise: nil) }
    }

    private static func result(_ result: HandshakeResult) -> GatewayFrame {
        // Encoding a struct of a Bool and a String cannot fail.
        GatewayFrame(command: .handshakeResult, body: ByteBuffer(bytes: try! JSONEncoder().encode(result)))
    }
}
