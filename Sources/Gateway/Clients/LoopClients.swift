import NIOCore

/// The clients of one event loop, found by connection number without a lock by code running on that
/// loop: the message path's view of ``ClientDirectory``, whose locked table stays the whole gateway's
/// view for queries, groups, uids and sessions.
final class LoopClients: Sendable {
    let eventLoop: EventLoop
    private let connections: NIOLoopBoundBox<[UInt32: ClientConnection]>

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
        self.connections = NIOLoopBoundBox.makeBoxSendingValue([:], eventLoop: eventLoop)
    }

    /// Call on the loop, like every method here.
    func add(_ connection: ClientConnection) {
        connections.value[connection.number] = connection
    }

    func remove(_ number: UInt32) {
        connections.value[number] = nil
    }

    func connection(_ number: UInt32) -> ClientConnection? {
        connections.value[number]
    }
}
