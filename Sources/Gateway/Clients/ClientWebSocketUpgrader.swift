import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Turns a client's HTTP connection into a WebSocket client: NIO's upgrader checks the handshake
/// and answers it, then the client's WebSocket pipeline takes over the channel.
final class ClientWebSocketUpgrader: HTTPServerProtocolUpgrader, Sendable {
    private let handshake: NIOWebSocketServerUpgrader

    init(configuration: GatewayConfiguration, admission: ClientAdmission) {
        handshake = NIOWebSocketServerUpgrader(
            maxFrameSize: configuration.maxMessageSize,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, request in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 1,
                            maxAccumulatedFrameCount: 4096,
                            maxAccumulatedFrameSize: configuration.maxMessageSize
                        )
                    )
                    try sync.addHandler(
                        ClientWebSocketHandler(request: request, admission: admission, closeTimeout: configuration.closeTimeout)
                    )
                }
            }
        )
    }

    var supportedProtocol: String { handshake.supportedProtocol }

    var requiredUpgradeHeaders: [String] { handshake.requiredUpgradeHeaders }

    func buildUpgradeResponse(channel: Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        handshake.buildUpgradeResponse(channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        handshake.upgrade(context: context, upgradeRequest: upgradeRequest)
    }
}
