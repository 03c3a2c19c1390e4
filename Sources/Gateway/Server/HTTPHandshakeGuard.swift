import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Sits behind the HTTP upgrade handler until the WebSocket upgrade completes (which removes it):
/// answers a request that is not an upgrade from the static site when there is one (keeping the
/// connection for more such requests) or with a clear 426, and a broken upgrade with a 400, and
/// closes a connection that has not upgraded within the handshake timeout (slowloris), or, once it
/// fetches files, that stays idle that long after its last answer.
final class HTTPHandshakeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "datacentered.handshake-guard"

    private let timeout: TimeAmount
    private let site: StaticSiteResponder?
    private var deadline: Scheduled<Void>?
    private var responded = false
    private var upgradeError: NIOWebSocketUpgradeError?

    init(timeout: TimeAmount, site: StaticSite?) {
        self.timeout = timeout
        self.site = site.map { StaticSiteResponder(site: $0) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        scheduleDeadline(context: context)
    }

    private func scheduleDeadline(context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data), !responded else { return }
        if let upgradeError {
            respond(context: context, status: .badRequest, version: head.version, text: "Invalid WebSocket upgrade request: \(upgradeError)\n")
            return
        }
        // The upgrade handler only looks at a connection's first request: a later upgrade on a
        // connection kept alive for files falls through to the 426 below.
        if let site, !head.headers.contains(name: "upgrade") {
            serve(site.respond(to: head), keepAlive: head.isKeepAlive, context: context)
            return
        }
        respond(
            context: context,
            status: .upgradeRequired,
            version: head.version,
            text: "This is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket).\n"
        )
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A refused upgrade is followed by the request itself, answered in channelRead; the HTTP
        // protocol error handler has already answered a malformed request.
        if let error = error as? NIOWebSocketUpgradeError {
            upgradeError = error
            return
        }
        context.close(promise: nil)
    }

    private func serve(_ response: StaticSiteResponder.Response, keepAlive: Bool, context: ChannelHandlerContext) {
        var head = response.head
        if !keepAlive {
            responded = true
            head.headers.add(name: "Connection", value: "close")
        } else if head.version == .http1_0 {
            head.headers.add(name: "Connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body = response.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let channel = context.channel
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if keepAlive {
            scheduleDeadline(context: context)
        } else {
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, version: HTTPVersion, text: String) {
        responded = true
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(text.utf8.count)")
        headers.add(name: "Connection", value: "close")
        if status == .upgradeRequired { headers.add(name: "Upgrade", value: "websocket") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
