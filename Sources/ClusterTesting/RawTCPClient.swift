import NIOCore
import NIOPosix
import NIOSSL

/// A TCP connection for bad-input tests: writes arbitrary bytes and reads whatever comes back until
/// the peer closes or a timeout passes.
public enum RawTCPClient {
    /// Connects to `host:port`, writes `bytes`, and returns everything received until the peer closes
    /// (`closedByPeer` true) or `timeout` passes (false). With `tls`, the bytes go over TLS, the
    /// server verified with it (by `host`, as in ``WebSocketTestClient``).
    public static func exchange(
        host: String = "127.0.0.1",
        port: Int,
        bytes: [UInt8],
        tls: TLSConfiguration? = nil,
        timeout: TimeAmount = .seconds(5)
    ) async throws -> (received: [UInt8], closedByPeer: Bool) {
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        let serverHostname = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await withThrowingTaskGroup(of: ([UInt8], Bool)?.self) { tasks in
            tasks.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(bytes: bytes))
                    var received: [UInt8] = []
                    for try await chunk in inbound { received += Array(chunk.readableBytesView) }
                    return (received, true)
                }
            }
            tasks.addTask {
                try await Task.sleep(nanoseconds: UInt64(timeout.nanoseconds))
                return nil
            }
            let first = try await tasks.next()!
            tasks.cancelAll()
            if let first { return (first.0, first.1) }
            return ([], false)
        }
    }
}
