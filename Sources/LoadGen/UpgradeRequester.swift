import NIOCore
import NIOHTTP1

/// Sends the HTTP `GET` that asks for the WebSocket upgrade once the TCP connection is up, and
/// completes `upgraded` when it succeeded or failed. `NIOHTTPClientUpgradeHandler` (before it in
/// the pipeline) adds the upgrade headers; an HTTP response reaching this handler means the
/// server refused.
final class UpgradeRequester: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// Fired by the upgrade pipeline handler once the WebSocket handlers are in place.
    struct Upgraded: Sendable {}

    struct Refused: Error, CustomStringConvertible {
        var status: HTTPResponseStatus?
        var description: String { "upgrade refused (\(status.map { String($0.code) } ?? "no response"))" }
    }

    private let target: Target
    private let upgraded: EventLoopPromise<Void>

    init(target: Target, upgraded: EventLoopPromise<Void>) {
        self.target = target
        self.upgraded = upgraded
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            upgraded.fail(Refused(status: head.status))
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is Upgraded {
            upgraded.succeed()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        upgraded.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        upgraded.fail(Refused(status: nil))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Completing twice is a no-op: this only matters when nothing else completed it.
        upgraded.fail(Refused(status: nil))
    }
}

@available(*, unavailable)
extension UpgradeRequester: Sendable {}
