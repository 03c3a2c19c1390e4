import NIOCore

/// One value per event loop of a group, found by the loop it belongs to; fixed once made, so any
/// thread may look a value up without a lock.
struct PerEventLoop<Value: Sendable>: Sendable {
    private let values: [ObjectIdentifier: Value]

    init(_ group: EventLoopGroup, _ make: (EventLoop) -> Value) {
        var values: [ObjectIdentifier: Value] = [:]
        for loop in group.makeIterator() { values[ObjectIdentifier(loop)] = make(loop) }
        self.values = values
    }

    /// The value of `loop`, which must belong to the group.
    subscript(loop: EventLoop) -> Value {
        guard let value = values[ObjectIdentifier(loop)] else {
            preconditionFailure("event loop \(loop) is not one of this gateway's loops")
        }
        return value
    }

    /// Every loop's value.
    var all: Dictionary<ObjectIdentifier, Value>.Values { values.values }
}
