import NIOCore
import Wire

/// The gateway's event loops in a fixed order: a loop's index is its lane, which its clients'
/// connection numbers encode (``ConnectionLanes``) and whose own internal listener its worker links use.
struct EventLoopLanes: Sendable {
    let loops: [EventLoop]
    let connectionLanes: ConnectionLanes
    private let indexes: [ObjectIdentifier: Int]

    init(_ group: EventLoopGroup) {
        let loops = Array(group.makeIterator())
        self.loops = loops
        self.connectionLanes = ConnectionLanes(count: loops.count)
        self.indexes = Dictionary(uniqueKeysWithValues: loops.enumerated().map { (ObjectIdentifier($1), $0) })
    }

    /// The lane of `loop`, which must be one of the group's loops.
    func lane(of loop: EventLoop) -> Int {
        guard let index = indexes[ObjectIdentifier(loop)] else {
            preconditionFailure("event loop \(loop) is not one of this gateway's loops")
        }
        return index
    }

    /// The lane of connection number `number`.
    func lane(ofConnection number: UInt32) -> Int {
        connectionLanes.lane(of: number)
    }
}
