import ClusterTesting
import Logging
import NIOConcurrencyHelpers
import XCTest

@testable import ClusterLogging

final class RateLimitedLogTests: XCTestCase {
    /// A clock the test moves by hand.
    private final class ManualClock: Sendable {
        private let start = ContinuousClock.now
        private let offset = NIOLockedValueBox(Duration.zero)
        func advance(by duration: Duration) { offset.withLockedValue { $0 += duration } }
        var now: ContinuousClock.Instant { start + offset.withLockedValue { $0 } }
    }

    private func makeLog(_ clock: ManualClock) -> (RateLimitedLog, RecordingLogHandler.Store) {
        let (logger, lines) = RecordingLogHandler.logger()
        return (RateLimitedLog(logger: logger, window: .seconds(10), now: { clock.now }), lines)
    }

    func testTheFirstOfAKindIsLoggedAndTheRestSummarisedAfterTheWindow() {
        let clock = ManualClock()
        let (log, lines) = makeLog(clock)
        for index in 0..<4813 {
            log.log(.warning, "refused worker link", "attempt \(index)")
            clock.advance(by: .milliseconds(1))
        }
        XCTAssertEqual(lines.messages, ["refused worker link: attempt 0"])
        clock.advance(by: .seconds(10))
        log.flush()
        XCTAssertEqual(lines.messages.last, "… 4,812 more in 10 s: refused worker link")
        XCTAssertEqual(lines.messages.count, 2)
        // A flush with nothing new says nothing; the next occurrence is logged in full again.
        log.flush()
        log.log(.warning, "refused worker link", "later")
        XCTAssertEqual(lines.messages.count, 3)
        XCTAssertEqual(lines.messages.last, "refused worker link: later")
    }

    func testAnOccurrenceAfterTheWindowWritesTheSummaryFirst() {
        let clock = ManualClock()
        let (log, lines) = makeLog(clock)
        log.log(.error, "closing worker link", "one")
        log.log(.error, "closing worker link", "two")
        clock.advance(by: .seconds(11))
        log.log(.error, "closing worker link", "three")
        XCTAssertEqual(lines.messages, ["closing worker link: one", "… 1 more in 10 s: closing worker link", "closing worker link: three"])
    }

    func testAnEmptyMessageLogsTheKindAlone() {
        let (log, lines) = makeLog(ManualClock())
        log.log(.error, "malformed WebSocket handshake event", "")
        XCTAssertEqual(lines.messages, ["malformed WebSocket handshake event"])
    }

    func testKindsAreLimitedSeparately() {
        let clock = ManualClock()
        let (log, lines) = makeLog(clock)
        log.log(.warning, "a", "1")
        log.log(.warning, "b", "1")
        log.log(.warning, "a", "2")
        XCTAssertEqual(lines.messages, ["a: 1", "b: 1"])
    }

    func testAWindowWithOneOccurrenceHasNoSummary() {
        let clock = ManualClock()
        let (log, lines) = makeLog(clock)
        log.log(.warning, "a", "1")
        clock.advance(by: .seconds(30))
        log.flush()
        XCTAssertEqual(lines.messages, ["a: 1"])
    }

    func testCountsAreGroupedByThousands() {
        let clock = ManualClock()
        let (log, lines) = makeLog(clock)
        for _ in 0...12_345 { log.log(.warning, "a", "x") }
        clock.advance(by: .seconds(10))
        log.flush()
        XCTAssertEqual(lines.messages.last, "… 12,345 more in 10 s: a")
        XCTAssertEqual(RateLimitedLog.grouped(1_234_567), "1,234,567")
    }
}

final class LogEscapingTests: XCTestCase {
    func testControlCharactersCannotForgeALine() {
        let forged = "echo:1\n2026-11-22T01:02:03.456 gateway[1] notice: worker linked\r\u{1B}[31m\u{0}\u{7F}\u{85}\u{2028}"
        let escaped = forged.escapedForLog
        XCTAssertFalse(escaped.unicodeScalars.contains { $0.properties.generalCategory == .control || $0 == "\u{2028}" })
        XCTAssertEqual(
            escaped,
            #"echo:1\n2026-11-22T01:02:03.456 gateway[1] notice: worker linked\r\u{1B}[31m\u{0}\u{7F}\u{85}\u{2028}"#
        )
    }

    func testPlainTextIsUnchangedAndBackslashesAreEscaped() {
        XCTAssertEqual("echo:4300 ключ 🔑".escapedForLog, "echo:4300 ключ 🔑")
        XCTAssertEqual(#"a\nb"#.escapedForLog, #"a\\nb"#)
    }

    func testLongTextIsCut() {
        let long = String(repeating: "x", count: 1000)
        let escaped = long.escapedForLog
        XCTAssertTrue(escaped.hasPrefix(String(repeating: "x", count: String.maximumLoggedPeerTextLength)))
        XCTAssertTrue(escaped.hasSuffix("…(744 more)"))
    }
}
