import NIOCore

/// The client writes that one read burst of a worker link produces: written at once, flushed once
/// per client when the burst ends (``flush()``), so a burst of replies costs one system call per
/// client and no task per write. Clients on other event loops get their write as a task there,
/// flushed at the end of that loop's tick. Lives on the link's event loop.
final class ClientWriteBatch {
    private let eventLoop: EventLoop
    private var written: [ClientConnection] = []

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    func write(_ message: ClientOutbound.Message, to connection: ClientConnection) {
        guard connection.eventLoop === eventLoop else {
            connection.eventLoop.execute { connection.write(message) }
            return
        }
        if connection.writeUnflushed(message) { written.append(connection) }
    }

    /// Flushes every client written to since the last flush.
    func flush() {
        for connection in written { connection.channel.flush() }
        written.removeAll(keepingCapacity: true)
    }
}

@available(*, unavailable)
extension ClientWriteBatch: Sendable {}
