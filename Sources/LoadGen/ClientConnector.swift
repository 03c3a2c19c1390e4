import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

#if canImport(Glibc)
import Glibc
#endif

/// Opens WebSocket client connections: one `ClientBootstrap` per event loop, local addresses bound
/// round-robin, a bounded number of connects in flight.
final class ClientConnector: Sendable {
    /// Makes the session of a new connection, on its loop.
    typealias SessionFactory = @Sendable (_ state: LoopState, _ index: Int) -> ClientSession

    struct TimedOut: Error, CustomStringConvertible {
        var description: String { "connect + upgrade timed out" }
    }

    let group: MultiThreadedEventLoopGroup
    let loops: [EventLoop]
    let states: [NIOLoopBound<LoopState>]
    private let target: Target
    private let sources: [SocketAddress]
    private let timeout: TimeAmount
    private let maxFrameSize: Int

    init(options: CommonOptions) throws {
        target = try options.target()
        sources = try options.sourceAddresses()
        timeout = .nanoseconds(Int64(options.connectTimeout * 1e9))
        maxFrameSize = max(1 << 16, options.payloadSize + 64)
        group = MultiThreadedEventLoopGroup(numberOfThreads: options.eventLoops)
        loops = Array(group.makeIterator())
        states = try loops.enumerated().map { index, loop in
            try loop.submit { NIOLoopBound(LoopState(index: index, eventLoop: loop), eventLoop: loop) }.wait()
        }
    }

    /// Opens connection `index` (its loop is `index % loops`); succeeds once the WebSocket is open.
    func connect(index: Int, makeSession: @escaping SessionFactory) -> EventLoopFuture<Void> {
        let loopIndex = index % loops.count
        let loop = loops[loopIndex]
        let state = states[loopIndex]
        let upgraded = loop.makePromise(of: Void.self)
        let target = self.target
        let maxFrameSize = self.maxFrameSize

        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                let upgrader = NIOWebSocketClientUpgrader(
                    maxFrameSize: maxFrameSize,
                    automaticErrorHandling: true,
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let loopState = state.value
                            let handler = WebSocketClientHandler(session: makeSession(loopState, index), state: loopState)
                            try channel.pipeline.syncOperations.addHandler(handler)
                            channel.pipeline.fireUserInboundEventTriggered(UpgradeRequester.Upgraded())
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                    try sync.addHandler(UpgradeRequester(target: target, upgraded: upgraded))
                }
            }
        if !sources.isEmpty {
            bootstrap = bootstrap
                .channelOption(Self.bindAddressNoPort, value: 1)
                .bind(to: sources[index % sources.count])
        }

        let channel = bootstrap.connect(to: target.address)
        channel.whenFailure { upgraded.fail($0) }
        let deadline = loop.scheduleTask(in: timeout) { upgraded.fail(TimedOut()) }
        upgraded.futureResult.whenComplete { result in
            deadline.cancel()
            if case .failure = result {
                channel.whenSuccess { $0.close(promise: nil) }
            }
        }
        return upgraded.futureResult
    }

    /// Linux `IP_BIND_ADDRESS_NO_PORT`: the port of a bound local address is chosen at connect time,
    /// so one source address can reach more than one destination with the same port.
    private static let bindAddressNoPort = ChannelOptions.Types.SocketOption(
        level: SocketOptionLevel(IPPROTO_IP), name: SocketOptionName(24)
    )

    /// Result of opening all connections.
    struct ConnectSummary: Sendable {
        var attempted = 0
        var connected = 0
        var failed = 0
        var seconds = 0.0
        var errorKinds: [String: Int] = [:]
    }

    /// Opens `count` connections with at most `inFlight` connects at once, giving up on starting
    /// new ones after `deadlineSeconds`. Failures are counted, never thrown.
    func connectAll(
        count: Int, inFlight: Int, deadlineSeconds: Double, firstIndex: Int = 0,
        makeSession: @escaping SessionFactory
    ) async -> ConnectSummary {
        var summary = ConnectSummary()
        let start = Clock.nanos()
        let deadline = start + UInt64(deadlineSeconds * 1e9)
        var lastProgress = start
        await withTaskGroup(of: String?.self) { group in
            func collect(_ failure: String??) {
                guard let failure else { return }
                if let failure {
                    summary.failed += 1
                    summary.errorKinds[failure, default: 0] += 1
                } else {
                    summary.connected += 1
                }
            }
            var running = 0
            for offset in 0..<count {
                if Clock.nanos() > deadline { break }
                if running >= inFlight {
                    collect(await group.next())
                    running -= 1
                }
                let index = firstIndex + offset
                summary.attempted += 1
                running += 1
                group.addTask {
                    do {
                        try await self.connect(index: index, makeSession: makeSession).get()
                        return nil
                    } catch {
                        return ErrorKind.describe(error)
                    }
                }
                let now = Clock.nanos()
                if now - lastProgress > 5_000_000_000 {
                    lastProgress = now
                    Output.line("connecting: \(summary.connected) open, \(summary.failed) failed, \(summary.attempted) started")
                }
            }
            while running > 0 {
                collect(await group.next())
                running -= 1
            }
        }
        summary.seconds = Double(Clock.nanos() - start) / 1e9
        return summary
    }

    /// Runs `body` on every loop with its state and waits for all of them.
    func onEveryLoop<T: Sendable>(_ body: @escaping @Sendable (LoopState) -> T) async throws -> [T] {
        var results: [T] = []
        for state in states {
            results.append(try await state.eventLoop.submit { body(state.value) }.get())
        }
        return results
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }
}
