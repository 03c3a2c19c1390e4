/// Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"): the
/// n-th wait is uniform in 0 ... min(maximum, initial * 2^n), so a fleet that lost its gateway at
/// the same instant comes back spread out instead of in waves.
public struct ReconnectBackoff: Sendable {
    public let initial: Duration
    public let maximum: Duration
    private var attempt = 0

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait before the next attempt; each call widens the window until it reaches `maximum`.
    public mutating func nextDelay<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Duration {
        let ceiling = min(maximum, initial * Double(1 << min(attempt, 30)))
        attempt += 1
        return ceiling * Double.random(in: 0...1, using: &generator)
    }

    public mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    /// After a connection that worked: the next failure starts from the smallest window again.
    public mutating func reset() {
        attempt = 0
    }
}
