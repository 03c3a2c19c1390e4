import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Wire

/// This worker's link to one gateway: connects, proves the key, passes frames on, and re-links with
/// exponential backoff whenever the link breaks, until stopped.
final class GatewayLink: Sendable {
    /// Where the link is in its life.
    enum State: Sendable {
        case connecting
        case linked(Channel, ChannelFlushCoalescer)
        case backingOff
        case stopped
    }

    let address: GatewayAddress
    private let configuration: WorkerConfiguration
    private let hello: WorkerHello
    private let group: EventLoopGroup
    private let logger: Logger
    private let onFrame: @Sendable (GatewayFrame, GatewayLink) -> Void
    private let state = NIOLockedValueBox(State.connecting)
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(
        address: GatewayAddress,
        configuration: WorkerConfiguration,
        hello: WorkerHello,
        group: EventLoopGroup,
        logger: Logger,
        onFrame: @escaping @Sendable (GatewayFrame, GatewayLink) -> Void
    ) {
        self.address = address
        self.configuration = configuration
        self.hello = hello
        self.group = group
        var logger = logger
        logger[metadataKey: "gateway"] = "\(address)"
        self.logger = logger
        self.onFrame = onFrame
    }

    var isLinked: Bool {
        if case .linked = state.withLockedValue({ $0 }) { return true }
        return false
    }

    func start() {
        task.withLockedValue { $0 = Task { await self.keepLinked() } }
    }

    /// Stops re-linking and closes the link.
    func stop() {
        let previous = state.withLockedValue { state in
            defer { state = .stopped }
            return state
        }
        task.withLockedValue { $0?.cancel() }
        if case .linked(let channel, _) = previous { channel.close(promise: nil) }
    }

    /// Queues `frame` to the gateway; flushed once per tick of the link's loop.
    func send(_ frame: GatewayFrame) throws {
        guard case .linked(let channel, let flusher) = state.withLockedValue({ $0 }) else {
            throw ClusterAPIError.gatewayNotLinked(address)
        }
        if channel.eventLoop.inEventLoop {
            channel.write(frame, promise: nil)
            flusher.scheduleFlush()
        } else {
            channel.eventLoop.execute {
                channel.write(frame, promise: nil)
                flusher.scheduleFlush()
            }
        }
    }

    private func keepLinked() async {
        var backoff = configuration.reconnectBackoff.first
        while !Task.isCancelled {
            do {
                let channel = try await link()
                backoff = configuration.reconnectBackoff.first
                try? await channel.closeFuture.get()
                logger.warning("link to gateway lost")
            } catch let error as LinkRefused {
                logger.error("gateway refused the link: \(error.reason)")
                backoff = configuration.reconnectBackoff.longest
            } catch {
                logger.warning("cannot link to gateway: \(error)")
            }
            guard transition(to: .backingOff) else { return }
            try? await Task.sleep(nanoseconds: UInt64(backoff.nanoseconds))
            backoff = min(.nanoseconds(backoff.nanoseconds * 2), configuration.reconnectBackoff.longest)
            guard transition(to: .connecting) else { return }
        }
    }

    private struct LinkRefused: Error {
        let reason: String
    }

    /// Connects and authenticates; returns the linked channel.
    private func link() async throws -> Channel {
        let handshake = group.next().makePromise(of: HandshakeResult.self)
        let configuration = self.configuration
        let hello = self.hello
        let logger = self.logger
        let onFrame: @Sendable (GatewayFrame) -> Void = { [self] frame in self.onFrame(frame, self) }
        let connecting = ClientBootstrap(group: group)
            .connectTimeout(configuration.linkTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteToMessageHandler(GatewayFrameDecoder(maximumFrameLength: configuration.maxLinkFrameSize)))
                    try sync.addHandler(MessageToByteHandler(GatewayFrameEncoder(maximumFrameLength: configuration.maxLinkFrameSize)))
                    try sync.addHandler(
                        GatewayLinkHandler(
                            hello: hello,
                            handshakeTimeout: configuration.linkTimeout,
                            handshake: handshake,
                            logger: logger,
                            onFrame: onFrame
                        )
                    )
                }
            }
            .connect(host: address.host, port: Int(address.port))
        let channel: Channel
        do {
            channel = try await connecting.get()
        } catch {
            handshake.fail(error)
            throw error
        }
        let result = try await handshake.futureResult.get()
        guard result.accepted else {
            channel.close(promise: nil)
            throw LinkRefused(reason: result.reason ?? "no reason given")
        }
        guard transition(to: .linked(channel, ChannelFlushCoalescer(channel: channel))) else {
            channel.close(promise: nil)
            throw CancellationError()
        }
        logger.notice("linked to gateway \(address)")
        return channel
    }

    /// Moves to `next` unless stopped; false when stopped.
    private func transition(to next: State) -> Bool {
        state.withLockedValue { state in
            if case .stopped = state { return false }
            state = next
            return true
        }
    }
}
