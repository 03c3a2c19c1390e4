import NIOCore

/// Bounds what a link's peer may send before it has proven the key: past ``maximumBytes`` it fires
/// ``PreAuthenticationLimit/Exceeded`` down the pipeline, whose link handler refuses the link. The link
/// handler removes it (by ``name``) once the peer is authenticated, so it costs nothing afterwards.
///
/// For the gateway's side: a linking peer sends nothing after its proof until it is accepted, whereas
/// a gateway may send events in the same read as its acceptance.
public final class PreAuthenticationLimit: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    /// The handler's name in the pipeline.
    public static let name = "link-pre-authentication-limit"
    /// A handshake's frames from one side are a few hundred bytes; 4 KiB leaves room and bounds the rest.
    public static let defaultMaximumBytes = 4096

    /// The peer sent more than the limit before proving the key.
    public struct Exceeded: Error, CustomStringConvertible {
        public let maximumBytes: Int
        public var description: String { "more than \(maximumBytes) bytes sent before proving the key" }
    }

    public let maximumBytes: Int
    private var received = 0
    private var exceeded = false

    public init(maximumBytes: Int = PreAuthenticationLimit.defaultMaximumBytes) {
        self.maximumBytes = maximumBytes
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !exceeded else { return }
        received += unwrapInboundIn(data).readableBytes
        guard received <= maximumBytes else {
            exceeded = true
            context.fireErrorCaught(Exceeded(maximumBytes: maximumBytes))
            return
        }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension PreAuthenticationLimit: Sendable {}
