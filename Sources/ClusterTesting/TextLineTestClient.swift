import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A plain TCP client for the gateway's text port in end-to-end tests: send lines, wait (bounded)
/// for lines and for the close. It splits what it receives on `\n` itself, independently of the
/// gateway's decoder.
public final class TextLineTestClient: Sendable {
    /// Why a wait failed.
    public enum Failure: Error, CustomStringConvertible {
        case timedOut(TimeAmount)
        /// The server closed the connection; `unterminated` holds bytes received after the last newline.
        case closed(unterminated: String)

        public var description: String {
            switch self {
            case .timedOut(let timeout): return "nothing received within \(timeout)"
            case .closed(let rest): return "connection closed" + (rest.isEmpty ? "" : " after an unterminated \"\(rest)\"")
            }
        }
    }

    private let channel: Channel
    private let inbox: TestInbox<String, String>

    private init(channel: Channel, inbox: TestInbox<String, String>) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects to `host:port`.
    public static func connect(
        host: String = "127.0.0.1",
        port: Int,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> TextLineTestClient {
        let inbox = TestInbox<String, String>()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TextLineInboxHandler(inbox: inbox))
                }
            }
            .connect(host: host, port: port)
            .get()
        return TextLineTestClient(channel: channel, inbox: inbox)
    }

    /// Sends `line` and a newline.
    public func send(_ line: String) async throws {
        try await send(bytes: Array(line.utf8) + [UInt8(ascii: "\n")])
    }

    /// Sends bytes as they are (no newline added).
    public func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// The next line received, without its `\n`; throws on timeout or when the connection closed first.
    public func receiveLine(timeout: TimeAmount = .seconds(5)) async throws -> String {
        do {
            switch try await inbox.next(timeout: timeout, on: channel.eventLoop) {
            case .item(let line): return line
            case .ended(let unterminated): throw Failure.closed(unterminated: unterminated)
            }
        } catch is TestInbox<String, String>.TimedOut {
            throw Failure.timedOut(timeout)
        }
    }

    /// Waits until the server closes the connection.
    public func waitForClose(timeout: TimeAmount = .seconds(5)) async throws {
        do {
            _ = try await inbox.ending(timeout: timeout, on: channel.eventLoop)
        } catch is TestInbox<String, String>.TimedOut {
            throw Failure.timedOut(timeout)
        }
    }

    /// True while the TCP connection is open.
    public var isOpen: Bool { channel.isActive }

    /// Closes the connection and waits for it to end.
    public func close() async {
        try? await channel.close()
    }
}

/// Splits what the client receives into lines for its inbox; at the end, the bytes after the last
/// newline are how the connection ended.
final class TextLineInboxHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let inbox: TestInbox<String, String>
    private var partial: [UInt8] = []

    init(inbox: TestInbox<String, String>) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for byte in unwrapInboundIn(data).readableBytesView {
            if byte == UInt8(ascii: "\n") {
                inbox.deliver(String(decoding: partial, as: UTF8.self))
                partial.removeAll()
            } else {
                partial.append(byte)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.end(String(decoding: partial, as: UTF8.self))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
