import ClusterTesting
import Foundation
import XCTest

/// The central side's scheduled sweep fires once per period across all workers, not once per worker,
/// and goes on when the worker that has been taking it dies.
final class ScheduleTests: XCTestCase {
    func testSweepFiresOncePerPeriodWithTwoWorkers() throws {
        let dataCenter = try DataCenterTestCluster(workers: 2, sweepInterval: 0.5)
        defer { dataCenter.stop() }
        try waitForPeriods(4, in: dataCenter.workers)
        let firing = try XCTUnwrap(dataCenter.workers.first { !Self.firedPeriods(in: $0.output).isEmpty })
        let firedBefore = Set(Self.firedPeriods(in: firing.output))
        firing.kill()
        let survivor = try XCTUnwrap(dataCenter.workers.first { $0 !== firing })
        try waitForPeriods(firedBefore.count + 4, in: dataCenter.workers)

        let periods = dataCenter.workers.flatMap { Self.firedPeriods(in: $0.output) }
        XCTAssertEqual(periods.count, Set(periods).count, "a period fired more than once: \(periods.sorted())")
        XCTAssertGreaterThanOrEqual(Self.firedPeriods(in: survivor.output).filter { $0 > firedBefore.max() ?? 0 }.count, 4)
    }

    /// Waits (bounded) until `count` distinct periods have fired across `workers`.
    private func waitForPeriods(_ count: Int, in workers: [ManagedProcess]) throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while Set(workers.flatMap { Self.firedPeriods(in: $0.output) }).count < count {
            guard ContinuousClock.now < deadline else { throw TestFailure("fewer than \(count) periods fired within 20 s") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// The period numbers of `scheduled task fired task=sweep period=N` log lines.
    private static func firedPeriods(in log: String) -> [Int] {
        log.split(separator: "\n").filter { $0.contains("scheduled task fired") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("period=") }.flatMap { Int($0.dropFirst("period=".count)) }
        }
    }
}
