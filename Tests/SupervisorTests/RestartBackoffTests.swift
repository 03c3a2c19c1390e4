import Supervisor
import XCTest

final class RestartBackoffTests: XCTestCase {
    func testACrashLoopWaitsLongerEachTimeUpToTheMaximum() {
        var backoff = RestartBackoff(maximumDelay: .seconds(30), healthyUptime: .seconds(10))
        let delays = (0..<8).map { _ in backoff.delayAfterExit(uptime: .milliseconds(100)) }
        XCTAssertEqual(delays, [.zero, .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30)])
        XCTAssertTrue(backoff.isCrashLooping)
    }

    func testAChildThatStayedUpIsRestartedAtOnceAgain() {
        var backoff = RestartBackoff(maximumDelay: .seconds(30), healthyUptime: .seconds(10))
        _ = backoff.delayAfterExit(uptime: .seconds(1))
        XCTAssertEqual(backoff.delayAfterExit(uptime: .seconds(1)), .seconds(1))
        XCTAssertEqual(backoff.delayAfterExit(uptime: .seconds(11)), .zero)
        XCTAssertFalse(backoff.isCrashLooping)
        XCTAssertEqual(backoff.delayAfterExit(uptime: .seconds(2)), .seconds(1))
    }
}
