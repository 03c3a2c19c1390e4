/// How a gateway stripes its connection numbers over its event loops ("lanes"): number `n` belongs to
/// lane `(n - 1) % count`, so a worker knows from a client id alone which of the gateway's per-loop
/// links carries that client's events and should carry the commands about it.
public struct ConnectionLanes: Hashable, Sendable {
    /// The gateway's event loops; at least 1.
    public let count: Int

    public init(count: Int) {
        precondition(count >= 1 && count <= Int(UInt16.max), "a gateway has 1 to 65,535 event loops")
        self.count = count
    }

    /// The lane (event loop index) that connection number `number` (never 0) belongs to.
    public func lane(of number: UInt32) -> Int {
        count == 1 ? 0 : Int((number &- 1) % UInt32(count))
    }
}
