import NIOCore
import NIOWebSocket
import Wire

/// One client's WebSocket connection as the rest of the gateway sees it: its number, its channel,
/// and the writes that workers' commands make on it.
///
/// Writes must happen on the channel's event loop; flushes are coalesced to one per loop tick, so a
/// burst of commands for one client costs one system call.
final class ClientConnection: Sendable {
    let number: UInt32
    let channel: Channel
    /// The remote IPv4 address, host order; 0 when the client is not on IPv4.
    let remoteIP: UInt32
    let remotePort: UInt16
    private let closing: NIOLoopBoundBox<Bool>
    private let flusher: ChannelFlushCoalescer

    init(number: UInt32, channel: Channel) {
        self.number = number
        self.channel = channel
        let remote = channel.remoteAddress
        self.remoteIP = remote?.ipAddress.flatMap { GatewayAddress.parseIPv4($0) } ?? 0
        self.remotePort = remote?.port.flatMap { UInt16(exactly: $0) } ?? 0
        self.closing = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
        self.flusher = ChannelFlushCoalescer(channel: channel)
    }

    var eventLoop: EventLoop { channel.eventLoop }

    /// True once a close has started from either side; nothing more is written then.
    var isClosing: Bool { closing.value }

    /// Runs `body` on the connection's event loop, now if already there.
    func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }

    /// Queues a frame, flushed at the end of this loop tick. Call on the event loop.
    func write(_ frame: WebSocketFrame) {
        guard !closing.value else { return }
        channel.write(frame, promise: nil)
        flusher.scheduleFlush()
    }

    /// Sends `lastMessage` if any, then a close frame with `code`, then closes. Call on the event loop.
    func close(code: WebSocketErrorCode, lastMessage: WebSocketFrame? = nil) {
        guard !closing.value else { return }
        if let lastMessage { channel.write(lastMessage, promise: nil) }
        closing.value = true
        var codeBuffer = channel.allocator.buffer(capacity: 2)
        codeBuffer.write(webSocketErrorCode: code)
        let closeFrame = WebSocketFrame(fin: true, opcode: .connectionClose, data: codeBuffer)
        let channel = self.channel
        channel.writeAndFlush(closeFrame).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Answers a client's close frame with the same code and closes. Call on the event loop.
    func acknowledgeClose(_ frame: WebSocketFrame) {
        guard !closing.value else {
            channel.close(promise: nil)
            return
        }
        closing.value = true
        var data = frame.unmaskedData
        let code = data.readSlice(length: min(2, data.readableBytes)) ?? ByteBuffer()
        let reply = WebSocketFrame(fin: true, opcode: .connectionClose, data: code)
        let channel = self.channel
        channel.writeAndFlush(reply).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Closes the TCP connection at once, dropping unsent output. Call on the event loop.
    func destroy() {
        closing.value = true
        channel.close(promise: nil)
    }
}
