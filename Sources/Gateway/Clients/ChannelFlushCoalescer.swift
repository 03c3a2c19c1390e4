import NIOCore

/// Coalesces the flushes of one channel to one per event-loop tick: writes queued while a loop
/// handles a burst of reads leave in one system call when the loop runs its tasks.
struct ChannelFlushCoalescer: Sendable {
    private let channel: Channel
    private let flushScheduled: NIOLoopBoundBox<Bool>

    init(channel: Channel) {
        self.channel = channel
        self.flushScheduled = NIOLoopBoundBox.makeBoxSendingValue(false, eventLoop: channel.eventLoop)
    }

    /// Makes sure a flush follows in this tick. Call on the channel's event loop.
    func scheduleFlush() {
        guard !flushScheduled.value else { return }
        flushScheduled.value = true
        let channel = self.channel
        let flushScheduled = self.flushScheduled
        channel.eventLoop.execute {
            flushScheduled.value = false
            channel.flush()
        }
    }
}
