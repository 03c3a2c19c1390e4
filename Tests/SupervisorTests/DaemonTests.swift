import ClusterTesting
import Foundation
import Supervisor
import XCTest

/// `datacentered start -d`: detached, logging to the log directory, reopening it on SIGHUP.
final class DaemonTests: XCTestCase {
    private var cluster: SupervisedCluster!

    override func tearDown() {
        cluster?.tearDown()
    }

    func testADaemonDetachesLogsToItsFileReopensItOnSIGHUPAndStops() throws {
        cluster = try SupervisedCluster()
        let started = try cluster.command(["start", "-d"], timeout: .seconds(120))
        XCTAssertEqual(started.status, 0, started.output)
        XCTAssertTrue(started.standardOutput.contains("started in the background"), started.output)
        let pid = try XCTUnwrap(cluster.runDirectory.recordedPID())
        let report = try cluster.waitForStatus("every process running") { $0.processes.allSatisfy { $0.pid != nil } }
        XCTAssertEqual(report.masterPID, pid)
        // Detached: a session of its own.
        XCTAssertEqual(getsid(pid), pid)
        let log = try String(contentsOfFile: cluster.logFile, encoding: .utf8)
        XCTAssertTrue(log.contains("supervisor[\(pid)]"), log)
        XCTAssertTrue(log.contains("gateway["), "children's lines are in the log file too:\n\(log)")

        // logrotate moves the file away, then sends SIGHUP: a new file appears and gets the lines.
        let rotated = cluster.logFile + ".1"
        try FileManager.default.moveItem(atPath: cluster.logFile, toPath: rotated)
        kill(pid, SIGHUP)
        let deadline = ContinuousClock.now + .seconds(10)
        while !((try? String(contentsOfFile: cluster.logFile, encoding: .utf8))?.contains("log file reopened") ?? false) {
            XCTAssertLessThan(ContinuousClock.now, deadline, "no new log file after SIGHUP")
            if ContinuousClock.now >= deadline { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let children = report.processes.compactMap(\.pid)
        let stop = try cluster.command(["stop"])
        XCTAssertEqual(stop.status, 0, stop.output)
        XCTAssertEqual(SupervisedCluster.waitUntilGone([pid] + children), [])
        let fresh = try String(contentsOfFile: cluster.logFile, encoding: .utf8)
        XCTAssertTrue(fresh.contains("cluster stopped"), "lines after the reopen go to the new file:\n\(fresh)")
        XCTAssertFalse(try String(contentsOfFile: rotated, encoding: .utf8).contains("cluster stopped"))
    }

    func testRestartStopsTheRunningClusterAndStartsANewOne() throws {
        cluster = try SupervisedCluster()
        let started = try cluster.command(["start", "-d"], timeout: .seconds(120))
        XCTAssertEqual(started.status, 0, started.output)
        let before = try cluster.waitForStatus("every process running") { $0.processes.allSatisfy { $0.pid != nil } }
        let restarted = try cluster.command(["restart", "-d"], timeout: .seconds(120))
        XCTAssertEqual(restarted.status, 0, restarted.output)
        let after = try cluster.waitForStatus("every process running") { $0.processes.allSatisfy { $0.pid != nil } }
        XCTAssertNotEqual(after.masterPID, before.masterPID)
        XCTAssertEqual(SupervisedCluster.waitUntilGone([before.masterPID] + before.processes.compactMap(\.pid)), [], "the old cluster is gone")
        XCTAssertEqual(after.processesByRole, ["memcached": 1, "gateway": 1, "worker": 2])
    }
}
