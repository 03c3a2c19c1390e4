import NIOCore

/// The clients of one event loop that were written to in this loop tick. Each is flushed once, by
/// one task at the end of the tick, however many messages it got: a burst of replies or broadcasts
/// costs one system call per client and one task per loop, not one per message.
final class ClientFlushQueue: Sendable {
    private let eventLoop: EventLoop
    private let pending: NIOLoopBoundBox<(connections: [ClientConnection], isScheduled: Bool)>

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
        self.pending = NIOLoopBoundBox.makeBoxSendingValue(([], false), eventLoop: eventLoop)
    }

    /// Flushes `connection` at the end of this tick. Call on the loop, once per tick per connection.
    func flushAtEndOfTick(_ connection: ClientConnection) {
        pending.value.connections.append(connection)
        guard !pending.value.isScheduled else { return }
        pending.value.isScheduled = true
        eventLoop.execute { self.flushAll() }
    }

    private func flushAll() {
        let connections = pending.value.connections
        pending.value = ([], false)
        for connection in connections { connection.flush() }
    }
}
