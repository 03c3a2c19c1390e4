import NIOCore
import NIOPosix
import Wire

/// A link to a gateway's internal port driven frame by frame, to play a handshake step by step.
/// Used by one test task at a time.
final class ScriptedLink: @unchecked Sendable {
    private let channel: Channel
    private var frames: AsyncStream<GatewayFrame>.AsyncIterator

    /// Passes each decoded frame to the link's stream; the stream ends with the connection.
    private final class FrameCollector: ChannelInboundHandler, Sendable {
        typealias InboundIn = GatewayFrame
        let sink: AsyncStream<GatewayFrame>.Continuation
        init(sink: AsyncStream<GatewayFrame>.Continuation) { self.sink = sink }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { sink.yield(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { sink.finish() }
        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }

    private init(channel: Channel, frames: AsyncStream<GatewayFrame>) {
        self.channel = channel
        self.frames = frames.makeAsyncIterator()
    }

    static func connect(port: Int) async throws -> ScriptedLink {
        let (frames, sink) = AsyncStream.makeStream(of: GatewayFrame.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(GatewayFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FrameCollector(sink: sink))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return ScriptedLink(channel: channel, frames: frames)
    }

    /// Sends `frame`; returns the bytes sent.
    func send(_ frame: GatewayFrame) async throws -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeGatewayFrame(frame)
        try await channel.writeAndFlush(buffer).get()
        return Array(buffer.readableBytesView)
    }

    /// The next frame from the gateway; the link is closed if none comes within 10 s.
    func receive() async throws -> GatewayFrame {
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        guard let frame = await frames.next() else { throw ChannelError.eof }
        return frame
    }

    func close() async {
        try? await channel.close()
    }
}
