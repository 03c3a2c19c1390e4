import ArgumentParser
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A single-hop SwiftNIO WebSocket server with the cluster's echo / broadcast demo semantics and the
/// gateway's WebSocket frame reader and writer (WebSocketFrames): the ceiling that the gateway +
/// worker cluster is measured against, and the cost of that WebSocket layer alone.
@main
struct EchoCeiling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-ceiling",
        abstract: "Single-hop NIO WebSocket echo / broadcast server (benchmark ceiling)."
    )

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one).")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "Event loop threads (default: one per core).")
    var eventLoops: Int = System.coreCount

    @Flag(help: "Set SO_REUSEPORT so several processes can share the port.")
    var reusePort = false

    @Option(help: "Largest accepted WebSocket message, in bytes (a larger one closes its connection with 1009).")
    var maxMessageSize: Int = 1 << 16

    @Option(help: "Listen backlog.")
    var backlog: Int32 = 4096

    mutating func validate() throws {
        guard (1...256).contains(eventLoops) else { throw ValidationError("--event-loops must be 1...256") }
        guard Self.split(listen) != nil else { throw ValidationError("--listen must be HOST:PORT") }
    }

    /// Receive buffers sized as the gateway sizes its clients': small while a client is idle or sends
    /// small messages, growing with reads that fill them.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)

    static func split(_ hostPort: String) -> (host: String, port: Int)? {
        guard let colon = hostPort.lastIndex(of: ":"), let port = Int(hostPort[hostPort.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        return (String(hostPort[..<colon]), port)
    }

    func run() throws {
        let (host, port) = Self.split(listen)!
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoops)
        let hubs = try Self.makeHubs(group: group)
        let maxMessageSize = self.maxMessageSize

        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.Types.SocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_REUSEPORT)), value: reusePort ? 1 : 0)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.recvAllocator, value: Self.receiveBuffers)
            .childChannelInitializer { channel in
                guard let hub = hubs[ObjectIdentifier(channel.eventLoop)] else {
                    return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                let upgrader = WebSocketUpgrader(hub: hub, maxMessageSize: maxMessageSize)
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                context.pipeline.syncOperations.removeHandler(name: HTTPRejectHandler.name, promise: nil)
                            }
                        )
                    )
                    try sync.addHandler(HTTPRejectHandler(), name: HTTPRejectHandler.name)
                }
            }

        let channel = try bootstrap.bind(host: host, port: port).wait()
        let bound = channel.localAddress?.port ?? port
        print("echo-ceiling listening on \(host):\(bound) (event loops: \(eventLoops), reuse-port: \(reusePort), pid: \(getpid()))")
        fflush(nil)
        try channel.closeFuture.wait()
        try group.syncShutdownGracefully()
    }

    /// One hub per event loop, each knowing the others.
    private static func makeHubs(group: MultiThreadedEventLoopGroup) throws -> [ObjectIdentifier: NIOLoopBound<LoopHub>] {
        var hubs: [NIOLoopBound<LoopHub>] = []
        for loop in group.makeIterator() {
            hubs.append(try loop.submit { NIOLoopBound(LoopHub(eventLoop: loop, allocator: ByteBufferAllocator()), eventLoop: loop) }.wait())
        }
        let all = hubs
        for hub in hubs {
            try hub.eventLoop.submit {
                hub.value.peers = all.filter { $0.eventLoop !== hub.eventLoop }
            }.wait()
        }
        var byLoop: [ObjectIdentifier: NIOLoopBound<LoopHub>] = [:]
        for hub in hubs {
            byLoop[ObjectIdentifier(hub.eventLoop)] = hub
        }
        return byLoop
    }
}
