import NIOCore
import NIOWebSocket
import Wire

/// One client connection as the rest of the gateway sees it: its number, its channel, and the
/// writes that workers' commands make on it, whatever protocol the client speaks.
///
/// Writes must happen on the channel's event loop; flushes are coalesced to one per loop tick
/// (``ClientFlushQueue``), so a burst of commands for one client costs one system call. A client that does not read cannot make
/// the gateway hold more than its send buffer: the channel's write-buffer water mark is that size,
/// and while the channel is not writable a new message is dropped or the client closed, as the
/// ``SendBufferFullPolicy`` says.
final class ClientConnection: Sendable {
    let number: UInt32
    let channel: Channel
    /// The remote IPv4 address, host order; 0 when the client is not on IPv4.
    let remoteIP: UInt32
    let remotePort: UInt16
    /// The counters of this connection's event loop.
    let counters: GatewayCounters.Shard
    private let onSendBufferFull: SendBufferFullPolicy
    private let state: NIOLoopBoundBox<State>
    private let flushQueue: ClientFlushQueue

    private struct State {
        var isClosing = false
        /// Messages dropped because the send buffer was full (the `drop` policy).
        var droppedMessages = 0
        var isFlushQueued = false
        /// Heartbeat ticks since the client last sent anything.
        var silentTicks = 0
        /// When the client last sent anything (its admission until it does), for `connections`.
        var lastHeard = NIODeadline.now()
        /// The session that the client's next event carries (see ``ClientDirectory``).
        var sessionStamp = SessionStamp.none
        /// The protocol's handler, from the client's admission until its channel is inactive.
        var writer: ClientWriter?
    }

    init(
        number: UInt32,
        channel: Channel,
        counters: GatewayCounters.Shard,
        flushQueue: ClientFlushQueue,
        onSendBufferFull: SendBufferFullPolicy
    ) {
        self.number = number
        self.channel = channel
        let remote = channel.remoteAddress
        self.remoteIP = remote?.ipAddress.flatMap { GatewayAddress.parseIPv4($0) } ?? 0
        self.remotePort = remote?.port.flatMap { UInt16(exactly: $0) } ?? 0
        self.counters = counters
        self.onSendBufferFull = onSendBufferFull
        self.state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: channel.eventLoop)
        self.flushQueue = flushQueue
    }

    var eventLoop: EventLoop { channel.eventLoop }

    /// The session the client's next event carries. Call on the event loop.
    var sessionStamp: SessionStamp { state.value.sessionStamp }

    /// Takes `stamp` as the session, unless a later one came first (stamps from other threads may
    /// arrive out of order). Call on the event loop.
    func adopt(_ stamp: SessionStamp) {
        if stamp.version > state.value.sessionStamp.version { state.value.sessionStamp = stamp }
    }

    /// Makes `writer` the one that writes to the client; nil when the channel has gone inactive
    /// (which also breaks the reference cycle between the two). Call on the event loop.
    func attach(_ writer: ClientWriter?) {
        state.value.writer = writer
    }

    /// True once a close has started from either side; nothing more is written then.
    var isClosing: Bool { state.value.isClosing }

    /// Runs `body` on the connection's event loop, now if already there.
    func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }

    /// Queues a message from any thread: at once when on the connection's loop (no task, no
    /// closure), else from a task on it.
    func writeFromAnyThread(_ message: ClientOutbound.Message) {
        guard eventLoop.inEventLoop else {
            eventLoop.execute { self.write(message) }
            return
        }
        write(message)
    }

    /// Queues a message, flushed at the end of this loop tick. Call on the event loop.
    func write(_ message: ClientOutbound.Message) {
        write(message.isRaw ? .raw(message.bytes) : .message(message.bytes, isBinary: message.isBinary))
    }

    /// Queues a message that other clients of this loop are written too, flushed at the end of this
    /// loop tick. Call on the event loop.
    func write(_ shared: SharedMessage) {
        write(shared.message.isRaw ? .raw(shared.message.bytes) : .shared(shared))
    }

    private func write(_ outbound: ClientOutbound) {
        guard writeUnflushed(outbound), !state.value.isFlushQueued else { return }
        state.value.isFlushQueued = true
        flushQueue.flushAtEndOfTick(self)
    }

    /// Flushes what was written. Call on the event loop.
    func flush() {
        state.value.isFlushQueued = false
        channel.flush()
    }

    /// Queues a message without flushing; false when nothing was written. Call on the event loop.
    private func writeUnflushed(_ outbound: ClientOutbound) -> Bool {
        guard !state.value.isClosing, let writer = state.value.writer else {
            counters.add(.sendFailures)
            return false
        }
        guard channel.isWritable else {
            sendBufferIsFull()
            return false
        }
        writer.write(outbound)
        counters.add(.messagesOut)
        return true
    }

    /// Sends `lastMessage` if any, then closes with `code` and `reason`. Call on the event loop.
    func close(code: WebSocketErrorCode, lastMessage: ClientOutbound.Message? = nil, reason: String = "") {
        guard markClosing() else { return }
        guard let writer = state.value.writer else { return channel.close(promise: nil) }
        writer.write(.close(code, lastMessage: lastMessage, reason: reason))
    }

    /// Closes the TCP connection at once, dropping unsent output. Call on the event loop.
    func destroy() {
        state.value.isClosing = true
        channel.close(promise: nil)
    }

    /// Records that a close has started; false if one already had. Call on the event loop.
    func markClosing() -> Bool {
        guard !state.value.isClosing else { return false }
        state.value.isClosing = true
        return true
    }

    /// Messages dropped for this client because its send buffer was full. Call on the event loop.
    var droppedMessages: Int { state.value.droppedMessages }

    /// Records that the client sent something, for the heartbeat. Call on the event loop.
    func noteHeard() {
        state.value.silentTicks = 0
        state.value.lastHeard = .now()
    }

    /// When the client last sent anything. Call on the event loop.
    var lastHeard: NIODeadline { state.value.lastHeard }

    /// Counts one more heartbeat tick of silence and returns the count. Call on the event loop.
    func countSilentTick() -> Int {
        state.value.silentTicks += 1
        return state.value.silentTicks
    }

    private func sendBufferIsFull() {
        switch onSendBufferFull {
        case .drop:
            counters.add(.sendBufferDrops)
            state.value.droppedMessages += 1
        case .close:
            counters.add(.sendBufferCloses)
            // 1013 "try again later": the application reconnects and catches up.
            close(code: .unknown(1013), reason: "send buffer full")
        }
    }
}
