import NIOCore

/// The clients of one event loop that were written to in this loop tick. Each is flushed once, by
/// one task at the end of the tick, however many messages it got: a burst of replies or broadcasts
/// costs one system call per client and one task per loop, not one per message.
final class ClientFlushQueue: Sendable {
    private let eventLoop: EventLoop
    private let pending: NIOLoopBoundBox<Pending>

    private struct Pending {
        var connections: [ClientConnection] = []
        /// The list being flushed; swapped with `connections` each tick, so neither reallocates.
        var flushing: [ClientConnection] = []
        var isScheduled = false

        mutating func takeConnections() {
            swap(&connections, &flushing)
            isScheduled = false
        }
    }

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
        self.pending = NIOLoopBoundBox.makeBoxSendingValue(Pending(), eventLoop: eventLoop)
    }

    /// Flushes `connection` at the end of this tick. Call on the loop, once per tick per connection.
    func flushAtEndOfTick(_ connection: ClientConnection) {
        pending.value.connections.append(connection)
        guard !pending.value.isScheduled else { return }
        pending.value.isScheduled = true
        eventLoop.execute { self.flushAll() }
    }

    private func flushAll() {
        pending.value.takeConnections()
        // A flush can write to clients again (queued in `connections` for the next task).
        for connection in pending.value.flushing { connection.flush() }
        pending.value.flushing.removeAll(keepingCapacity: true)
    }
}
