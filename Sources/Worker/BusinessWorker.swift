import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Wire

/// A business-worker process: finds the gateways, links to each, and runs the event handler on the
/// client events they forward.
///
/// Events are handled one at a time in arrival order. On graceful shutdown the worker stops linking,
/// closes its links (gateways move its clients to other workers), handles what it already received,
/// then calls `onWorkerStop`.
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
                self.links.stopAll()
                sink.finish()
            }
        }

        await runHandler("onWorkerStop") { try await handler.onWorkerStop(workerContext) }
        try? await group.shutdownGracefully()
    }

    /// A frame and the link it came on.
    struct LinkedFrame: Sendable {
        let frame: GatewayFrame
        let link: GatewayLink
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
                    GatewayLink(address: address, configuration: configuration, hello: hello, group: group, logger: logger) { frame, link in
                        sink.yield(LinkedFrame(frame: frame, link: link))
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
            await handle(event.frame)
        }
    }

    private func handle(_ frame: GatewayFrame) async {
        let context = EventContext(
            clientID: frame.clientID,
            clientAddress: "\(GatewayAddress.formatIPv4(frame.clientIP)):\(frame.clientPort)",
            gatewayAddress: GatewayAddress(ip: frame.localIP, port: frame.localPort),
            gatewayPublicPort: frame.gatewayPort,
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
