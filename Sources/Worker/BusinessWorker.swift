import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Wire

/// A business-worker process: finds the gateways, links to each, and runs the event handler on the
/// client events they forward.
///
/// Events are handled one at a time in arrival order, and acknowledged to their gateway once handled.
/// On graceful shutdown the worker tells each gateway it is leaving (they route its clients' new
/// events elsewhere), handles every event already sent to it, acknowledges them, closes its links,
/// then calls `onWorkerStop`. Nothing is lost and nothing is handled twice.
public final class BusinessWorker<Handler: EventHandler>: Service {
    private let configuration: WorkerConfiguration
    private let handler: Handler
    private let directory: any GatewayDirectory
    private let logger: Logger
    private let links = GatewayLinkSet()
    /// `name:pid`, as gateways know this worker.
    public let workerKey: String

    public init(configuration: WorkerConfiguration, handler: Handler, directory: any GatewayDirectory, logger: Logger) {
        self.configuration = configuration
        self.handler = handler
        self.directory = directory
        self.logger = logger
        self.workerKey = "\(configuration.name):\(ProcessInfo.processInfo.processIdentifier)"
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopCount))
        let (events, sink) = AsyncStream.makeStream(of: LinkedFrame.self)
        let workerContext = WorkerContext(workerKey: workerKey, api: ClusterAPI(links: links, currentClient: nil))
        await runHandler("onWorkerStart") { try await handler.onWorkerStart(workerContext) }

        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.dispatch(events) }
            tasks.addTask {
                await cancelWhenGracefulShutdown { await self.discoverGateways(group: group, sink: sink) }
                await self.leaveGateways()
                sink.finish()
            }
        }

        await runHandler("onWorkerStop") { try await handler.onWorkerStop(workerContext) }
        try? await group.shutdownGracefully()
    }

    /// A frame and the gateway session it came on.
    struct LinkedFrame: Sendable {
        let frame: GatewayFrame
        let session: GatewaySession
    }

    /// Leaves every gateway and waits (bounded) until each has sent its last event and the link closed.
    private func leaveGateways() async {
        let sessions = links.leaveAll()
        logger.notice("leaving \(sessions.count) gateways")
        let deadline = NIODeadline.now() + configuration.leaveTimeout
        for session in sessions {
            let remaining = deadline - NIODeadline.now()
            let closed = session.channel.closeFuture
            let timeout = session.channel.eventLoop.scheduleTask(in: max(remaining, .zero)) {
                session.channel.close(promise: nil)
            }
            try? await closed.get()
            timeout.cancel()
        }
    }

    private func discoverGateways(group: EventLoopGroup, sink: AsyncStream<LinkedFrame>.Continuation) async {
        let hello = WorkerHello(workerKey: workerKey, secretKey: configuration.secretKey)
        var registryFailing = false
        while !Task.isCancelled {
            do {
                let live = try await directory.liveGateways()
                if registryFailing {
                    logger.notice("registry reachable again")
                    registryFailing = false
                }
                let change = links.reconcile(withLive: live) { address in
                    GatewayLink(address: address, configuration: configuration, hello: hello, group: group, logger: logger) { frame, session in
                        sink.yield(LinkedFrame(frame: frame, session: session))
                    }
                }
                for address in change.added { logger.info("discovered gateway \(address)") }
                for address in change.removed { logger.info("forgot gateway \(address): no longer registered") }
            } catch {
                if !registryFailing {
                    logger.error("cannot read gateways from the registry, keeping current links: \(error)")
                    registryFailing = true
                }
            }
            try? await Task.sleep(nanoseconds: UInt64(configuration.discoveryInterval.nanoseconds))
        }
    }

    private func dispatch(_ events: AsyncStream<LinkedFrame>) async {
        for await event in events {
            if event.frame.command == .leaveAccepted {
                event.session.finish()
                continue
            }
            await handle(event.frame)
            if event.frame.command.isClientEvent { event.session.eventHandled() }
        }
    }

    private func handle(_ frame: GatewayFrame) async {
        let context = EventContext(
            clientID: frame.clientID,
            clientAddress: "\(GatewayAddress.formatIPv4(frame.clientIP)):\(frame.clientPort)",
            gatewayAddress: GatewayAddress(ip: frame.localIP, port: frame.localPort),
            gatewayPublicPort: frame.gatewayPort,
            isRedelivered: frame.flags.contains(.redelivered),
            api: ClusterAPI(links: links, currentClient: frame.clientID)
        )
        switch frame.command {
        case .onConnect:
            await runHandler("onConnect", context) { try await handler.onConnect(context) }
        case .onWebSocketConnect:
            guard let handshake = try? JSONDecoder().decode(WebSocketHandshakeInfo.self, from: Data(frame.body.readableBytesView)) else {
                logger.error("malformed WebSocket handshake event", metadata: ["client": "\(context.clientID)"])
                return
            }
            await runHandler("onWebSocketConnect", context) { try await handler.onWebSocketConnect(context, handshake: handshake) }
        case .onMessage:
            let message = ClientMessage(bytes: frame.body, isBinary: frame.flags.contains(.binary))
            await runHandler("onMessage", context) { try await handler.onMessage(context, message: message) }
        case .onClose:
            await runHandler("onClose", context) { try await handler.onClose(context) }
        case .ping:
            break
        default:
            logger.warning("ignoring unexpected \(frame.command) frame from a gateway")
        }
    }

    /// Runs one handler call; an error it throws is logged, and the worker goes on.
    private func runHandler(_ name: String, _ context: EventContext? = nil, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            var metadata: Logger.Metadata = ["event": "\(name)"]
            if let context { metadata["client"] = "\(context.clientID)" }
            logger.error("event handler threw: \(error)", metadata: metadata)
        }
    }
}
