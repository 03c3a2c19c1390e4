import NIOCore
import NIOHTTP1
import NIOPosix

/// A small internal HTTP endpoint: `GET path` answers what the route's closure returns
/// (`/metrics` in the Prometheus text format, `/statistics` and `/connections` in JSON).
/// Bind it to loopback or an internal address: it has no authentication.
public final class MetricsHTTPServer: Sendable {
    /// What a route answers: a content type and a body.
    public typealias Route = @Sendable () async -> (contentType: String, body: String)

    private let channel: Channel

    /// The address it listens on (port chosen by the system when asked for 0).
    public var localAddress: SocketAddress? { channel.localAddress }

    private init(channel: Channel) {
        self.channel = channel
    }

    /// Binds `host:port` and starts answering `routes`.
    public static func start(host: String, port: Int, routes: [String: Route], group: any EventLoopGroup) async throws -> MetricsHTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RouteHandler(routes: routes))
                }
            }
            .bind(host: host, port: port).get()
        return MetricsHTTPServer(channel: channel)
    }

    /// Stops listening.
    public func close() async {
        try? await channel.close()
    }
}

private final class RouteHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: [String: MetricsHTTPServer.Route]
    private var head: HTTPRequestHead?

    init(routes: [String: MetricsHTTPServer.Route]) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
            let route = head.method == .GET ? routes[path] : nil
            let known = routes.keys.sorted().joined(separator: " ")
            let method = head.method
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask {
                await Self.answer(method: method, route: route, known: known)
            }.whenSuccess { answer in
                Self.respond(context: loopBound.value, head: head, answer: answer)
            }
            self.head = nil
        }
    }

    private static func answer(method: HTTPMethod, route: MetricsHTTPServer.Route?, known: String) async -> (HTTPResponseStatus, String, String) {
        guard method == .GET else { return (.methodNotAllowed, "text/plain", "only GET\n") }
        guard let route else { return (.notFound, "text/plain", "not found; try \(known)\n") }
        let answer = await route()
        return (.ok, answer.contentType, answer.body)
    }

    private static func respond(context: ChannelHandlerContext, head: HTTPRequestHead, answer: (HTTPResponseStatus, String, String)) {
        let (status, contentType, body) = answer
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }
}
