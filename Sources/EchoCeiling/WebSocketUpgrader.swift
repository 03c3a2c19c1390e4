import NIOCore
import NIOHTTP1
import NIOWebSocket

/// NIO's WebSocket handshake (its checks and its answer), after which a ``WebSocketEchoHandler``
/// alone takes over the channel, in place of the frame decoder and encoder NIO's upgrader adds.
final class WebSocketUpgrader: HTTPServerProtocolUpgrader, Sendable {
    private let handshake = NIOWebSocketServerUpgrader(
        shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
        // Never runs: `upgrade` below sets up the pipeline.
        upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() }
    )
    private let hub: NIOLoopBound<LoopHub>
    private let maxMessageSize: Int

    init(hub: NIOLoopBound<LoopHub>, maxMessageSize: Int) {
        self.hub = hub
        self.maxMessageSize = maxMessageSize
    }

    var supportedProtocol: String { handshake.supportedProtocol }

    var requiredUpgradeHeaders: [String] { handshake.requiredUpgradeHeaders }

    func buildUpgradeResponse(channel: Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        handshake.buildUpgradeResponse(channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        context.eventLoop.makeCompletedFuture {
            try context.pipeline.syncOperations.addHandler(WebSocketEchoHandler(hub: hub.value, maxMessageSize: maxMessageSize))
        }
    }
}
