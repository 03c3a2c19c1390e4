/// When to restart a child that ended on its own: at once the first time, then after growing
/// delays while it keeps failing (1, 2, 4 ... seconds up to a maximum), and at once again after it
/// stayed up long enough to count as healthy. A crash loop costs a restart every maximum delay,
/// never a thousand a second.
public struct RestartBackoff: Sendable, Equatable {
    /// The longest delay.
    public var maximumDelay: Duration
    /// A child up at least this long had no crash loop: the next restart is immediate again.
    public var healthyUptime: Duration
    /// Failures in a row, each after less than ``healthyUptime``.
    public private(set) var consecutiveFailures = 0

    public init(maximumDelay: Duration, healthyUptime: Duration) {
        self.maximumDelay = maximumDelay
        self.healthyUptime = healthyUptime
    }

    /// Records an unexpected end after `uptime` and returns how long to wait before the restart.
    public mutating func delayAfterExit(uptime: Duration) -> Duration {
        if uptime >= healthyUptime { consecutiveFailures = 0 }
        consecutiveFailures += 1
        guard consecutiveFailures > 1 else { return .zero }
        let exponent = min(consecutiveFailures - 2, 30)
        return min(.seconds(1 << exponent), maximumDelay)
    }

    /// True while the child is failing over and over (the restart waits).
    public var isCrashLooping: Bool { consecutiveFailures > 1 }
}
