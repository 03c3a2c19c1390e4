import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Wire

/// Handles one client's WebSocket after the upgrade: answers pings and closes, and hands its
/// connect, handshake, message and close events to its ``ClientEventRouter``.
final class ClientWebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let directory: ClientDirectory
    private let links: WorkerLinkTable
    private let events: ClientEventFrames
    private let request: HTTPRequestHead
    private let maxWaitingEvents: Int
    private let logger: Logger
    private var router: ClientEventRouter?

    init(
        request: HTTPRequestHead,
        directory: ClientDirectory,
        links: WorkerLinkTable,
        events: ClientEventFrames,
        maxWaitingEvents: Int,
        logger: Logger
    ) {
        self.request = request
        self.directory = directory
        self.links = links
        self.events = events
        self.maxWaitingEvents = maxWaitingEvents
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let connection = directory.admit(context.channel)
        let router = ClientEventRouter(connection: connection, links: links, maxWaitingEvents: maxWaitingEvents, logger: logger)
        self.router = router
        router.forward(events.connect(connection))
        router.forward(events.webSocketConnect(connection, request: request))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let router else { return }
        let connection = router.connection
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            guard !connection.isClosing else { return }
            router.forward(events.message(connection, payload: frame.unmaskedData, binary: frame.opcode == .binary))
        case .ping:
            guard !connection.isClosing else { return }
            connection.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
        case .connectionClose:
            connection.acknowledgeClose(frame)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let router {
            directory.remove(router.connection.number)
            router.forward(events.close(router.connection))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let connection = router?.connection else {
            context.close(promise: nil)
            return
        }
        let metadata: Logger.Metadata = ["client": "\(connection.number)"]
        switch error {
        case NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge,
            NIOWebSocketFrameAggregator.Error.tooManyFragments:
            logger.notice("closing client: message too big", metadata: metadata)
            connection.close(code: .messageTooLarge)
        case is NIOWebSocketFrameAggregator.Error:
            logger.notice("closing client: \(error)", metadata: metadata)
            connection.close(code: .protocolError)
        default:
            logger.info("closing client: \(error)", metadata: metadata)
            connection.destroy()
        }
    }
}
