import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Wire

/// Handles one client's WebSocket after the upgrade: answers pings and closes, and forwards its
/// connect, handshake, message and close events to one worker, in order.
///
/// Events stick to the worker that got the client's first event; when that link is gone the next
/// event picks another. With no worker linked, events wait here (bounded) and leave in order once one links.
final class ClientWebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let directory: ClientDirectory
    private let links: WorkerLinkTable
    private let events: ClientEventFrames
    private let request: HTTPRequestHead
    private let maxEventsAwaitingWorker: Int
    private let logger: Logger

    private var connection: ClientConnection?
    private var worker: WorkerLink?
    private var eventsAwaitingWorker: [GatewayFrame] = []

    init(
        request: HTTPRequestHead,
        directory: ClientDirectory,
        links: WorkerLinkTable,
        events: ClientEventFrames,
        maxEventsAwaitingWorker: Int,
        logger: Logger
    ) {
        self.request = request
        self.directory = directory
        self.links = links
        self.events = events
        self.maxEventsAwaitingWorker = maxEventsAwaitingWorker
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let connection = directory.admit(context.channel)
        self.connection = connection
        forward(events.connect(connection), context: context)
        forward(events.webSocketConnect(connection, request: request), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let connection else { return }
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            guard !connection.isClosing else { return }
            let message = events.message(connection, payload: frame.unmaskedData, binary: frame.opcode == .binary)
            forward(message, context: context)
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
        if let connection {
            directory.remove(connection.number)
            forward(events.close(connection), context: context)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let connection else {
            context.close(promise: nil)
            return
        }
        switch error {
        case NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge,
            NIOWebSocketFrameAggregator.Error.tooManyFragments:
            logger.notice("closing client: message too big", metadata: ["client": "\(connection.number)"])
            connection.close(code: .messageTooLarge)
        case is NIOWebSocketFrameAggregator.Error:
            logger.notice("closing client: \(error)", metadata: ["client": "\(connection.number)"])
            connection.close(code: .protocolError)
        default:
            logger.info("closing client: \(error)", metadata: ["client": "\(connection.number)"])
            connection.destroy()
        }
    }

    private func forward(_ event: GatewayFrame, context: ChannelHandlerContext) {
        if eventsAwaitingWorker.isEmpty, let worker, worker.isActive {
            worker.send(event)
            return
        }
        eventsAwaitingWorker.append(event)
        if eventsAwaitingWorker.count == 1 {
            sendAwaitingEvents(loop: context.eventLoop)
        } else if eventsAwaitingWorker.count > maxEventsAwaitingWorker, let connection, !connection.isClosing {
            logger.warning(
                "closing client: no worker linked and \(maxEventsAwaitingWorker) events waiting",
                metadata: ["client": "\(connection.number)"]
            )
            connection.close(code: .unknown(1013))
        }
    }

    /// Sends the waiting events to the sticky worker or a new one, or waits for a link to come up.
    private func sendAwaitingEvents(loop: EventLoop) {
        let handler = NIOLoopBound(self, eventLoop: loop)
        let next = worker.flatMap { $0.isActive ? $0 : nil }
            ?? links.pickOrWait { loop.execute { handler.value.sendAwaitingEvents(loop: loop) } }
        guard let next else { return }
        worker = next
        for event in eventsAwaitingWorker { next.send(event) }
        eventsAwaitingWorker.removeAll()
    }
}
