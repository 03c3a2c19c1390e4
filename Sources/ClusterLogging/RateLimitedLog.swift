import Logging
import NIOConcurrencyHelpers

/// Logs what peers can make happen again and again (a refused link, a malformed frame, an expired
/// registration) without letting a flood fill a disk: the first occurrence of a kind in a window is
/// logged in full; the rest are counted and summarised in one line once the window is over
/// ("… 4,812 more in 10 s: refused worker link").
///
/// The summary is written by the next occurrence after the window, or by ``flush()``, which the
/// process calls periodically so a flood that stops is summarised too. Not for the hot path: each
/// call takes a lock.
public final class RateLimitedLog: Sendable {
    private let logger: Logger
    private let window: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let kinds = NIOLockedValueBox<[String: Window]>([:])

    private struct Window {
        var start: ContinuousClock.Instant
        var level: Logger.Level
        var suppressed = 0
    }

    /// - Parameters:
    ///   - window: how long after a logged occurrence the same kind is only counted.
    ///   - now: the clock; tests pass their own.
    public init(
        logger: Logger,
        window: Duration = .seconds(10),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.logger = logger
        self.window = window
        self.now = now
    }

    /// Logs `kind: message` (`kind` alone for an empty message) unless `kind` was logged less than a
    /// window ago; then only counts it.
    /// - Parameter kind: what happened, constant text (peer-supplied text belongs in `message`).
    public func log(
        _ level: Logger.Level,
        _ kind: String,
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata = [:]
    ) {
        let instant = now()
        let (mustLog, summary) = kinds.withLockedValue { kinds -> (Bool, Window?) in
            guard var current = kinds[kind] else {
                kinds[kind] = Window(start: instant, level: level)
                return (true, nil)
            }
            if instant - current.start < window {
                current.suppressed += 1
                kinds[kind] = current
                return (false, nil)
            }
            kinds[kind] = Window(start: instant, level: level)
            return (true, current.suppressed > 0 ? current : nil)
        }
        if let summary { logSummary(kind, summary) }
        guard mustLog else { return }
        let text = "\(message())"
        logger.log(level: level, text.isEmpty ? "\(kind)" : "\(kind): \(text)", metadata: metadata())
    }

    /// Summarises every kind whose window is over and forgets it.
    public func flush() {
        let instant = now()
        let ended = kinds.withLockedValue { kinds -> [(String, Window)] in
            let ended = kinds.filter { instant - $0.value.start >= window }
            for kind in ended.keys { kinds[kind] = nil }
            return ended.filter { $0.value.suppressed > 0 }.map { ($0.key, $0.value) }
        }
        for (kind, summary) in ended { logSummary(kind, summary) }
    }

    private func logSummary(_ kind: String, _ summary: Window) {
        logger.log(level: summary.level, "… \(Self.grouped(summary.suppressed)) more in \(Self.seconds(window)): \(kind)")
    }

    /// `4812` as `4,812`.
    static func grouped(_ count: Int) -> String {
        let digits = Array(String(count))
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return result
    }

    private static func seconds(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}
