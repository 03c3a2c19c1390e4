import NIOCore
import NIOPosix

/// A plain HTTP/1.1 GET for the supervisor's own endpoints (children's `/statistics`): one request
/// per connection, the body read until the server closes, bounded by a timeout.
enum HTTPFetch {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func get(_ address: HostPort, path: String, timeout: TimeAmount = .seconds(3), group: any EventLoopGroup) async throws -> String {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        let deadline = channel.channel.eventLoop.scheduleTask(in: timeout) { channel.channel.close(promise: nil) }
        defer { deadline.cancel() }
        var response = ByteBuffer()
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n"))
            for try await var chunk in inbound { response.writeBuffer(&chunk) }
        }
        let text = String(buffer: response)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no HTTP answer from \(address)\(path)") }
        guard text.hasPrefix("HTTP/1.1 200") || text.hasPrefix("HTTP/1.0 200") else {
            throw Failure(description: "\(address)\(path) answered \(text.prefix(while: { $0 != "\r" }))")
        }
        return String(text[split.upperBound...])
    }
}
