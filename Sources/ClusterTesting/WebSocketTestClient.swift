import DataCenterClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// A plain WebSocket client for end-to-end tests: connect, send, and wait (bounded) for what comes back.
/// It answers pings like a browser does and records the close code it was sent.
public final class WebSocketTestClient: Sendable {
    /// Why a wait or a send failed.
    public enum Failure: Error, CustomStringConvertible {
        case notUpgraded(HTTPResponseHead?)
        case timedOut(TimeAmount)
        case closed(code: WebSocketErrorCode?)

        public var description: String {
            switch self {
            case .notUpgraded(let head): return "server did not upgrade: \(head.map { "\($0.status)" } ?? "no response")"
            case .timedOut(let timeout): return "nothing received within \(timeout)"
            case .closed(let code): return "connection closed (code \(code.map { "\($0)" } ?? "none"))"
            }
        }
    }

    private let channel: Channel
    private let inbox: TestInbox<WebSocketFrame, WebSocketErrorCode?>

    private init(channel: Channel, inbox: TestInbox<WebSocketFrame, WebSocketErrorCode?>) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Opens a WebSocket to `host:port` at `path`.
    /// - Parameters:
    ///   - tls: when given, speaks WebSocket over TLS and verifies the server with it; the name
    ///     checked is `host` (a DNS name, also sent as SNI, or the IP address connected to).
    ///   - receiveBufferSize: the socket's receive buffer, to make a client that stops reading
    ///     hold back the server sooner.
    public static func connect(
        host: String = "127.0.0.1",
        port: Int,
        path: String = "/",
        headers: [(String, String)] = [],
        tls: TLSConfiguration? = nil,
        receiveBufferSize: Int? = nil,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> WebSocketTestClient {
        let inbox = TestInbox<WebSocketFrame, WebSocketErrorCode?>()
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        var bootstrap = ClientBootstrap(group: group).connectTimeout(.seconds(5))
        if let receiveBufferSize {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferSize))
        }
        let upgraded = try await bootstrap
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try WebSocketConnector.configureUpgrade(
                        of: channel, host: host, hostHeader: "\(host):\(port)", path: path, headers: headers,
                        sslContext: sslContext, maximumFrameSize: 1 << 24
                    ) { channel in
                        try channel.pipeline.syncOperations.addHandler(WebSocketInboxHandler(inbox: inbox))
                        return channel
                    }
                }
            }
        guard let channel = try await upgraded.get() else { throw Failure.notUpgraded(nil) }
        return WebSocketTestClient(channel: channel, inbox: inbox)
    }

    /// Sends a text message.
    public func send(_ text: String) async throws {
        try await send(frame: WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)))
    }

    /// Sends one frame as it is (masked, as a client must); for fragments, pings and closes.
    public func send(frame: WebSocketFrame) async throws {
        var masked = frame
        masked.maskKey = .random()  // the frame encoder applies it
        try await channel.writeAndFlush(masked)
    }

    /// The next text or binary message; throws when nothing comes within `timeout` or the connection closed.
    public func receive(timeout: TimeAmount = .seconds(5)) async throws -> WebSocketFrame {
        do {
            switch try await inbox.next(timeout: timeout, on: channel.eventLoop) {
            case .item(let frame): return frame
            case .ended(let code): throw Failure.closed(code: code)
            }
        } catch is TestInbox<WebSocketFrame, WebSocketErrorCode?>.TimedOut {
            throw Failure.timedOut(timeout)
        }
    }

    /// The next text message as a string.
    public func receiveText(timeout: TimeAmount = .seconds(5)) async throws -> String {
        String(buffer: try await receive(timeout: timeout).data)
    }

    /// Waits until the server closes the connection; returns the close code it sent, if any.
    public func waitForClose(timeout: TimeAmount = .seconds(5)) async throws -> WebSocketErrorCode? {
        do {
            return try await inbox.ending(timeout: timeout, on: channel.eventLoop)
        } catch is TestInbox<WebSocketFrame, WebSocketErrorCode?>.TimedOut {
            throw Failure.timedOut(timeout)
        }
    }

    /// Stops reading from the socket, as a client that has stopped taking its messages.
    public func pauseReading() async throws {
        try await channel.setOption(.autoRead, value: false).get()
    }

    /// Reads again after ``pauseReading()``.
    public func resumeReading() async throws {
        try await channel.setOption(.autoRead, value: true).get()
        channel.read()
    }

    /// True while the TCP connection is open.
    public var isOpen: Bool { channel.isActive }

    /// Closes with a normal close frame and waits for the connection to end.
    public func close() async {
        var code = ByteBuffer()
        code.write(webSocketErrorCode: .normalClosure)
        try? await send(frame: WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
        _ = try? await channel.closeFuture.get()
    }

    /// Drops the TCP connection without a close frame.
    public func abort() async {
        try? await channel.close()
    }
}
