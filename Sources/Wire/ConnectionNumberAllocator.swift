/// Hands out a gateway's connection numbers: increasing, wrapping from `UInt32.max` to 1,
/// never 0 and never one still in use, so a client id is unique while its client is connected.
public struct ConnectionNumberAllocator: Sendable {
    private var last: UInt32

    /// - Parameter last: the number handed out before the first one; the first is `last + 1` (wrapping).
    public init(startingAfter last: UInt32 = 0) {
        self.last = last
    }

    /// The next free number. `isInUse` must leave at least one number free.
    public mutating func next(isInUse: (UInt32) -> Bool) -> UInt32 {
        repeat {
            last = last == UInt32.max ? 1 : last + 1
        } while isInUse(last)
        return last
    }
}
