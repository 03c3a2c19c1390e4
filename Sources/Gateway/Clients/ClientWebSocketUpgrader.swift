import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Turns a client's HTTP connection into a WebSocket client: NIO's upgrader checks the handshake
/// and answers it; then a ``ClientWebSocketHandler`` alone takes over the channel, in place of the
/// frame decoder and encoder that NIO's upgrader would add.
final class ClientWebSocketUpgrader: HTTPServerProtocolUpgrader, Sendable {
    private let handshake: NIOWebSocketServerUpgrader
    private let admission: ClientAdmission
    private let maxMessageSize: Int
    private let closeTimeout: TimeAmount

    init(configuration: GatewayConfiguration, admission: ClientAdmission) {
        // Only its handshake is used: `upgrade` below sets up the pipeline, so the pipeline step
        // given here never runs.
        handshake = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() }
        )
        self.admission = admission
        maxMessageSize = configuration.maxMessageSize
        closeTimeout = configuration.closeTimeout
    }

    var supportedProtocol: String { handshake.supportedProtocol }

    var requiredUpgradeHeaders: [String] { handshake.requiredUpgradeHeaders }

    func buildUpgradeResponse(channel: Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        handshake.buildUpgradeResponse(channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let handler = ClientWebSocketHandler(
            upgradeRequest: upgradeRequest,
            admission: admission,
            buffers: admission.buffers(on: context.eventLoop),
            maxMessageSize: maxMessageSize,
            closeTimeout: closeTimeout
        )
        return context.eventLoop.makeCompletedFuture { try context.pipeline.syncOperations.addHandler(handler) }
    }
}
