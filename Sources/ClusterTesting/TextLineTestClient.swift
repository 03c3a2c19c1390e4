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
    private let inbox: TextLineInbox

    private init(channel: Channel, inbox: TextLineInbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects to `host:port`.
    public static func connect(
        host: String = "127.0.0.1",
        port: Int,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> TextLineTestClient {
        let inbox = TextLineInbox()
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
        try await inbox.nextLine(timeout: timeout, on: channel.eventLoop)
    }

    /// Waits until the server closes the connection.
    public func waitForClose(timeout: TimeAmount = .seconds(5)) async throws {
        try await inbox.waitForClose(timeout: timeout, on: channel.eventLoop)
    }

    /// True while the TCP connection is open.
    public var isOpen: Bool { channel.isActive }

    /// Closes the connection and waits for it to end.
    public func close() async {
        try? await channel.close()
    }
}

/// Received bytes split into lines, with at most one waiting reader.
final class TextLineInbox: Sendable {
    private let state = NIOLockedValueBox(State())

    private struct State {
        var lines: [String] = []
        var partial: [UInt8] = []
        var isClosed = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    func deliver(_ buffer: ByteBuffer) {
        wake { state in
            for byte in buffer.readableBytesView {
                if byte == UInt8(ascii: "\n") {
                    state.lines.append(String(decoding: state.partial, as: UTF8.self))
                    state.partial.removeAll()
                } else {
                    state.partial.append(byte)
                }
            }
        }
    }

    func connectionEnded() {
        wake { $0.isClosed = true }
    }

    func nextLine(timeout: TimeAmount, on loop: EventLoop) async throws -> String {
        try await wait(timeout: timeout, on: loop) { state in
            if !state.lines.isEmpty { return .success(state.lines.removeFirst()) }
            if state.isClosed {
                return .failure(TextLineTestClient.Failure.closed(unterminated: String(decoding: state.partial, as: UTF8.self)))
            }
            return nil
        }
    }

    func waitForClose(timeout: TimeAmount, on loop: EventLoop) async throws {
        try await wait(timeout: timeout, on: loop) { state in state.isClosed ? .success(()) : nil }
    }

    private func wake(_ change: (inout State) -> Void) {
        let waiter = state.withLockedValue { state in
            change(&state)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Re-checks `ready` after every change until it gives a result or `timeout` passes.
    private func wait<T>(timeout: TimeAmount, on loop: EventLoop, _ ready: (inout State) -> Result<T, Error>?) async throws -> T {
        let deadline = NIODeadline.now() + timeout
        while true {
            let outcome: Result<T, Error>? = state.withLockedValue { ready(&$0) }
            if let outcome { return try outcome.get() }
            guard NIODeadline.now() < deadline else { throw TextLineTestClient.Failure.timedOut(timeout) }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let installed = state.withLockedValue { state -> Bool in
                    // Something may have arrived since the check above.
                    let pending = !state.lines.isEmpty || state.isClosed
                    guard !pending, state.waiter == nil else { return false }
                    state.waiter = continuation
                    return true
                }
                guard installed else {
                    continuation.resume()
                    return
                }
                loop.scheduleTask(deadline: deadline) { self.wake { _ in } }
            }
        }
    }
}

/// Feeds a ``TextLineInbox`` from the client's pipeline.
final class TextLineInboxHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let inbox: TextLineInbox

    init(inbox: TextLineInbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.deliver(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.connectionEnded()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
