import NIOCore
import NIOWebSocket
import Wire

/// One client connection as the rest of the gateway sees it: its number, its channel, and the
/// writes that workers' commands make on it, whatever protocol the client speaks.
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
        self.closing = NIOLoopBoundBox.makeBoxSendingValue(false, eventLoop: channel.eventLoop)
        self.flusher = ChannelFlushCoalescer(channel: channel)
    }

    var eventLoop: EventLoop { channel.eventLoop }

    /// True once a close has started from either side; nothing more is written then.
    var isClosing: Bool { closing.value }

    /// Runs `body` on the connection's event loop, now if already there.
    func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }

    /// Queues a message, flushed at the end of this loop tick. Call on the event loop.
    func write(_ message: ClientOutbound.Message) {
        guard !closing.value else { return }
        let outbound = message.isRaw ? ClientOutbound.raw(message.bytes) : .message(message.bytes, isBinary: message.isBinary)
        channel.write(outbound, promise: nil)
        flusher.scheduleFlush()
    }

    /// Sends `lastMessage` if any, then closes with `code`. Call on the event loop.
    func close(code: WebSocketErrorCode, lastMessage: ClientOutbound.Message? = nil) {
        guard markClosing() else { return }
        channel.writeAndFlush(ClientOutbound.close(code, lastMessage: lastMessage), promise: nil)
    }

    /// Closes the TCP connection at once, dropping unsent output. Call on the event loop.
    func destroy() {
        closing.value = true
        channel.close(promise: nil)
    }

    /// Records that a close has started; false if one already had. Call on the event loop.
    func markClosing() -> Bool {
        guard !closing.value else { return false }
        closing.value = true
        return true
    }
}
