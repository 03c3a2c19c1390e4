import Cluster
import ClusterLogging
import Foundation
import Logging
import Registry
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Wire

/// A business-worker process: finds the gateways, links to each, and runs the event handler on the
/// client events they forward, on timers and on Channel events.
///
/// Everything the handler runs is run one at a time in arrival order, or with
/// ``WorkerConfiguration/maxConcurrentEvents`` above 1, several clients' events at once with each
/// client's in order (see ``WorkerDispatcher``); each client event is acknowledged to its gateway
/// once handled. On graceful shutdown the worker tells each gateway it is leaving (they route its
/// clients' new events elsewhere), handles every event already sent to it, acknowledges them, closes
/// its links, then calls `onWorkerStop`. Nothing is lost and nothing is handled twice.
///
/// Not generic over the handler: a generic class would make every event pay for run-time generic
/// metadata look-ups of its nested types.
public final class BusinessWorker: Service {
    private let configuration: WorkerConfiguration
    private let handler: any EventHandler
    private let directory: any GatewayDirectory
    private let globalData: GlobalData
    private let logger: Logger
    /// What clients or gateways can make happen again and again (a handler that throws on their input,
    /// a malformed frame) is logged through here.
    private let peerLog: RateLimitedLog
    private let links = GatewayLinkSet()
    private let counters = NIOLockedValueBox(WorkerStatistics())
    /// The lock of every ``ClientSession`` this worker makes.
    private let sessionLock = NIOLock()
    /// Bytes of Channel events received and not yet run.
    private let channelEventBacklog = NIOLockedValueBox(0)
    /// `name:pid`, as gateways know this worker.
    public let workerKey: String
    /// The one thread that carries every gateway link and runs the handler (see EventLoopTaskExecutor);
    /// a machine's cores are used by running several worker processes.
    public let eventLoops: any EventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    public init(
        configuration: WorkerConfiguration,
        handler: any EventHandler,
        directory: any GatewayDirectory,
        globalData: GlobalData,
        logger: Logger
    ) {
        self.configuration = configuration
        self.handler = handler
        self.directory = directory
        self.globalData = globalData
        self.logger = logger
        self.peerLog = RateLimitedLog(logger: logger)
        self.workerKey = "\(configuration.name):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// This process's counters now.
    public var statistics: WorkerStatistics {
        var statistics = counters.withLockedValue { $0 }
        statistics.gatewayLinks = links.linkedAddresses.count
        return statistics
    }

    public func run() async throws {
        let key = try LinkKey(secret: configuration.secretKey)
        let tls = try configuration.linkTLSTrustRootsPath.map { try GatewayConnector.tlsContext(trustRootsPath: $0) }
        let group = eventLoops
        let handlerExecutor = EventLoopTaskExecutor(eventLoop: group.next())
        let dispatcher = WorkerDispatcher(executor: handlerExecutor, maxConcurrentEvents: configuration.maxConcurrentEvents)
        let timers = WorkerTimers { id, body in dispatcher.submit(.timer(id, body)) }
        let worker = WorkerContext(
            workerKey: workerKey,
            api: api(currentClient: nil),
            timers: timers,
            channel: ClusterChannel(transport: links),
            globalData: globalData
        )
        await runHandler("onWorkerStart") { try await handler.onWorkerStart(worker) }
        let peerLogFlush = group.next().scheduleRepeatedTask(initialDelay: .seconds(10), delay: .seconds(10)) { _ in
            self.peerLog.flush()
        }
        let statisticsLog = configuration.statisticsInterval.map { interval in
            group.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                self.logger.notice("worker statistics: \(self.statistics)")
            }
        }

        let sessions = NIOLoopBoundBox.makeBoxSendingValue(SessionCache(), eventLoop: handlerExecutor.eventLoop)
        dispatcher.start { event in await self.dispatch(event, worker: worker, sessions: sessions) }
        await cancelWhenGracefulShutdown {
            await self.discoverGateways(group: group, key: key, tls: tls, dispatcher: dispatcher) { gateway in
                handlerExecutor.eventLoop.execute { self.forgetSessions(of: gateway, in: sessions) }
            }
        }
        timers.cancelAll()
        await leaveGateways()
        await dispatcher.finish()

        statisticsLog?.cancel()
        peerLogFlush.cancel()
        peerLog.flush()
        await runHandler("onWorkerStop") { try await handler.onWorkerStop(worker) }
        try? await group.shutdownGracefully()
    }

    private func api(currentClient: ClientID?) -> ClusterAPI {
        ClusterAPI(transport: links, currentClient: currentClient, queryTimeout: configuration.queryTimeout)
    }

    /// Leaves every gateway and waits (bounded) until each has sent its last event and the link closed.
    private func leaveGateways() async {
        let sessions = links.leaveAll()
        logger.notice("leaving \(sessions.count) gateways")
        let deadline = NIODeadline.now() + configuration.leaveTimeout
        for session in sessions {
            let remaining = deadline - NIODeadline.now()
            let timeout = session.channel.eventLoop.scheduleTask(in: max(remaining, .zero)) {
                session.channel.close(promise: nil)
            }
            try? await session.channel.closeFuture.get()
            timeout.cancel()
        }
    }

    /// - Parameter forgotten: called with each gateway no longer registered (gone for good).
    private func discoverGateways(
        group: EventLoopGroup, key: LinkKey, tls: NIOSSLContext?, dispatcher: WorkerDispatcher, forgotten: (GatewayAddress) -> Void
    ) async {
        let connector = GatewayConnector(
            group: group,
            key: key,
            workerKey: workerKey,
            timeout: configuration.linkTimeout,
            maxFrameSize: configuration.maxLinkFrameSize,
            keepalive: configuration.linkKeepalive,
            tls: tls,
            logger: logger
        )
        var registryFailing = false
        while !Task.isCancelled {
            do {
                let live = try await directory.liveGateways()
                if registryFailing {
                    logger.notice("registry reachable again")
                    registryFailing = false
                }
                let change = links.reconcile(withLive: live) { address in
                    GatewayLink(address: address, configuration: configuration, connector: connector, logger: logger) { frame, session in
                        self.received(frame, from: session, dispatcher: dispatcher)
                    }
                }
                for address in change.added { logger.info("discovered gateway \(address)") }
                for address in change.removed {
                    logger.info("forgot gateway \(address): no longer registered")
                    forgotten(address)
                }
            } catch {
                counters.withLockedValue { $0.registryErrors += 1 }
                if !registryFailing {
                    logger.error("cannot read gateways from the registry, keeping current links: \(error)")
                    registryFailing = true
                }
            }
            try? await Task.sleep(nanoseconds: UInt64(configuration.discoveryInterval.nanoseconds))
        }
    }

    /// Takes a frame from a gateway link, on the link's loop (the handler's), in the order it came.
    private func received(_ frame: GatewayFrame, from session: GatewaySession, dispatcher: WorkerDispatcher) {
        switch frame.command {
        case .leaveAccepted:
            // Closes the link once the events already received from it are handled.
            session.finish()
        case .channelEvent:
            if admitChannelEvent(frame) { dispatcher.submit(.channelEvent(frame, session)) }
        case let command where command.isClientEvent:
            dispatcher.submit(.client(frame, session, position: session.eventReceived()))
        default:
            peerLog.log(.warning, "ignoring an unexpected frame from a gateway", "\(frame.command)")
        }
    }

    /// Runs the handler on one event, on the handler's loop, in its lane's order (see ``WorkerDispatcher``).
    private func dispatch(_ event: WorkerEvent, worker: WorkerContext, sessions: NIOLoopBoundBox<SessionCache>) async {
        switch event {
        case .channelEvent(let frame, let session):
            await deliverChannelEvent(frame, from: session, worker: worker)
        case .client(let frame, let session, let position):
            await handle(frame, worker: worker, sessions: sessions)
            session.eventHandled(position)
            counters.withLockedValue { counters in
                counters.eventsHandled += 1
                if frame.flags.contains(.redelivered) { counters.redeliveredEvents += 1 }
            }
        case .timer(let id, let body):
            guard worker.timers.claimFiring(id) else { return }
            counters.withLockedValue { $0.timersFired += 1 }
            await runHandler("timer") { try await body(worker) }
        }
    }

    /// Drops the cached sessions of a gateway's clients, on the handler's loop: a dead gateway sends no
    /// close for them. A handler of such a client still running may cache its session again; that one
    /// is dropped when its id connects again.
    private func forgetSessions(of gateway: GatewayAddress, in sessions: NIOLoopBoundBox<SessionCache>) {
        let dropped = sessions.value.forgetClients(of: gateway)
        if dropped > 0 { logger.info("dropped \(dropped) cached client sessions of gateway \(gateway)") }
    }

    /// Counts a Channel event into the backlog, or drops and counts it when the backlog is full.
    private func admitChannelEvent(_ frame: GatewayFrame) -> Bool {
        let limit = configuration.maxChannelEventBacklogBytes
        let admitted = channelEventBacklog.withLockedValue { backlog in
            guard backlog == 0 || backlog + frame.encodedLength <= limit else { return false }
            backlog += frame.encodedLength
            return true
        }
        if !admitted {
            counters.withLockedValue { $0.channelEventsDropped += 1 }
            peerLog.log(.warning, "Channel event dropped", "\(limit) bytes of Channel events are waiting for the handler")
        }
        return admitted
    }

    private func deliverChannelEvent(_ frame: GatewayFrame, from session: GatewaySession, worker: WorkerContext) async {
        channelEventBacklog.withLockedValue { $0 -= frame.encodedLength }
        let name = String(buffer: frame.extData)
        guard let subscriber = worker.channel.subscriber(for: name) else { return }
        counters.withLockedValue { $0.channelEvents += 1 }
        guard let data = try? frame.body.decodeJSON(as: JSONValue.self) else {
            peerLog.log(.error, "malformed Channel event", "\(name.escapedForLog)", metadata: ["gateway": "\(session.address)"])
            return
        }
        await runHandler("channel \(name)") { try await subscriber(ChannelEvent(name: name, data: data), worker) }
    }

    private func handle(_ frame: GatewayFrame, worker: WorkerContext, sessions: NIOLoopBoundBox<SessionCache>) async {
        let client = frame.clientID
        let session: (version: UInt64, values: [String: JSONValue])
        do {
            guard let stamp = SessionStamp(extData: frame.extData) else { throw GatewayFrameError.malformedBody(frame.command) }
            // A new connection: a session cached under its id is that of an earlier connection that
            // never closed here (its gateway died, and the restarted gateway numbers from 1 again).
            if frame.command == .onConnect { sessions.value.forget(client) }
            session = try sessions.value.session(for: client, stamp: stamp)
        } catch {
            peerLog.log(.error, "malformed session on a client event; handling it with an empty one", "", metadata: ["client": "\(client)"])
            session = (0, [:])
        }
        let context = EventContext(
            clientID: client,
            clientIP: frame.clientIP,
            clientPort: frame.clientPort,
            gatewayAddress: client.gateway,
            gatewayPublicPort: frame.gatewayPort,
            isRedelivered: frame.flags.contains(.redelivered),
            session: ClientSession(session.values, lock: sessionLock),
            api: api(currentClient: client),
            worker: worker
        )
        switch frame.command {
        case .onConnect:
            await runHandler("onConnect", context) { try await handler.onConnect(context) }
        case .onWebSocketConnect:
            guard let handshake = try? frame.body.decodeJSON(as: WebSocketHandshakeInfo.self) else {
                peerLog.log(.error, "malformed WebSocket handshake event", "", metadata: ["client": "\(client)"])
                return
            }
            await runHandler("onWebSocketConnect", context) { try await handler.onWebSocketConnect(context, handshake: handshake) }
        case .onMessage:
            let message = ClientMessage(bytes: frame.body, isBinary: frame.flags.contains(.binary))
            await runHandler("onMessage", context) { try await handler.onMessage(context, message: message) }
        default:
            await runHandler("onClose", context) { try await handler.onClose(context) }
            sessions.value.forget(client)
            return
        }
        if let changed = context.session.changedValues {
            sessions.value.wrote(changed, for: client, basedOn: session.version)
            await runHandler("session write", context) { try await context.api.setSession(client, changed) }
        }
    }

    /// Runs one handler call; an error it throws is logged, and the worker goes on.
    private func runHandler(_ name: String, _ context: EventContext? = nil, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            counters.withLockedValue { $0.handlerErrors += 1 }
            var metadata: Logger.Metadata = ["event": "\(name)"]
            if let context { metadata["client"] = "\(context.clientID)" }
            // The error may carry the client's own text.
            peerLog.log(.error, "event handler threw", "\("\(error)".escapedForLog)", metadata: metadata)
        }
    }
}
