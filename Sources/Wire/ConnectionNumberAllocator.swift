/// Hands out a gateway's connection numbers for one lane (see ``ConnectionLanes``): increasing in
/// steps of the lane count, wrapping back to the lane's first number after `UInt32.max`, never 0 and
/// never one still in use, so a client id is unique while its client is connected.
public struct ConnectionNumberAllocator: Sendable {
    private var last: UInt32
    private let first: UInt32
    private let step: UInt32

    /// One lane-less allocator: 1, 2, 3, ...
    /// - Parameter last: the number handed out before the first one; the first is `last + 1` (wrapping).
    public init(startingAfter last: UInt32 = 0) {
        self.last = last
        self.first = 1
        self.step = 1
    }

    /// The allocator of lane `lane` of `lanes`: `lane + 1`, then every `lanes.count`-th number after it.
    /// - Parameter last: a number of the lane handed out before the first one, or 0.
    public init(lane: Int, of lanes: ConnectionLanes, startingAfter last: UInt32 = 0) {
        precondition(lane >= 0 && lane < lanes.count && (last == 0 || lanes.lane(of: last) == lane))
        self.first = UInt32(lane) + 1
        self.step = UInt32(lanes.count)
        self.last = last
    }

    /// The next free number. `isInUse` must leave at least one number of the lane free.
    public mutating func next(isInUse: (UInt32) -> Bool) -> UInt32 {
        repeat {
            if last == 0 || last > UInt32.max - step {
                last = first
            } else {
                last += step
            }
        } while isInUse(last)
        return last
    }
}
