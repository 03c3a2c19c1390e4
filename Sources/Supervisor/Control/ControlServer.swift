import Foundation
import NIOCore
import NIOPosix

/// The control socket: a Unix domain socket in the run directory (reachable only by who can reach
/// that directory). Each connection sends one ``ControlRequest`` line and gets one ``ControlResponse`` line.
public final class ControlServer: Sendable {
    public typealias Handler = @Sendable (ControlRequest) async -> ControlResponse

    private let channel: Channel

    private init(channel: Channel) {
        self.channel = channel
    }

    /// Listens on `path` (a socket file left by a crashed supervisor is replaced).
    public static func start(path: String, group: any EventLoopGroup, handler: @escaping Handler) async throws -> ControlServer {
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineSplitter()))
                    try channel.pipeline.syncOperations.addHandler(ControlConnectionHandler(handler: handler))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        chmod(path, 0o600)
        return ControlServer(channel: channel)
    }

    public func close() async {
        try? await channel.close()
    }
}

private final class ControlConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let handler: ControlServer.Handler
    private var answered = false

    init(handler: @escaping ControlServer.Handler) {
        self.handler = handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        let line = Self.unwrapInboundIn(data)
        let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(line.readableBytesView))
        let handler = self.handler
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask {
            var bytes = (try? ControlCoding.encoder.encode(await Self.answer(request, handler: handler))) ?? Data()
            bytes.append(UInt8(ascii: "\n"))
            return ByteBuffer(bytes: bytes)
        }.whenSuccess { answer in
            let context = loopBound.value
            context.writeAndFlush(Self.wrapOutboundOut(answer)).whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }

    private static func answer(_ request: ControlRequest?, handler: ControlServer.Handler) async -> ControlResponse {
        guard let request else {
            return ControlResponse(ok: false, message: "a request is one JSON object on one line: {\"command\": \"status\"}")
        }
        return await handler(request)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Dates as ISO 8601 text on the control socket.
enum ControlCoding {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
