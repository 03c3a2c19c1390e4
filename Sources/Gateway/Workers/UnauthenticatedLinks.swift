import Atomics

/// How many links wait to prove the key at once, across the gateway's loops: past the limit a new
/// link is refused at once, so a flood of connections that never authenticate holds a bounded
/// amount of memory and timers.
final class UnauthenticatedLinks: Sendable {
    let limit: Int
    private let waiting = ManagedAtomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a place; false (and no place taken) when all are taken.
    func enter() -> Bool {
        if waiting.wrappingIncrementThenLoad(ordering: .relaxed) <= limit { return true }
        waiting.wrappingDecrement(ordering: .relaxed)
        return false
    }

    /// Gives back a place taken with ``enter()``.
    func leave() {
        waiting.wrappingDecrement(ordering: .relaxed)
    }

    /// Links waiting now.
    var count: Int { waiting.load(ordering: .relaxed) }
}
