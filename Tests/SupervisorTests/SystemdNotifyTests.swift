import ClusterTesting
import Foundation
import Supervisor
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `Type=notify`: the master's datagrams on a unix datagram socket the test binds as `$NOTIFY_SOCKET`,
/// as systemd does.
final class SystemdNotifyTests: XCTestCase {
    private var cluster: SupervisedCluster!
    private var listener: NotifySocketListener?

    override func tearDown() {
        cluster?.tearDown()
        listener?.close()
    }

    func testTheMasterReportsReadyAfterItsChildrenReloadingAroundAReloadAndStopping() throws {
        cluster = try SupervisedCluster()
        let listener = try NotifySocketListener(name: cluster.directory.appendingPathComponent("notify.sock").path)
        self.listener = listener
        cluster.extraEnvironment = ["NOTIFY_SOCKET": listener.name]
        let master = try cluster.start()
        let masterPID = try XCTUnwrap(master.pid)

        XCTAssertEqual(try listener.receive(), "READY=1\nMAINPID=\(masterPID)")
        let report = try cluster.status()
        XCTAssertTrue(report.isStarted)
        XCTAssertTrue(report.processes.allSatisfy { $0.pid != nil }, "every child was up when READY=1 came")
        for pid in report.processes.compactMap(\.pid) {
            let environment = try String(decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")), as: UTF8.self)
            XCTAssertFalse(environment.contains("NOTIFY_SOCKET="), "a child must not notify in the master's name (pid \(pid))")
        }

        let reload = try cluster.command(["reload"], timeout: .seconds(60))
        XCTAssertEqual(reload.status, 0, reload.output)
        let reloading = try listener.receive().split(separator: "\n")
        XCTAssertEqual(reloading.first, "RELOADING=1")
        let started = try XCTUnwrap(reloading.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? Int($0.dropFirst(15)) : nil }, "\(reloading)")
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nowMicroseconds = Int(now.tv_sec) * 1_000_000 + Int(now.tv_nsec) / 1000
        XCTAssertLessThanOrEqual(started, nowMicroseconds)
        XCTAssertGreaterThan(started, nowMicroseconds - 60_000_000)
        XCTAssertEqual(try listener.receive(), "READY=1\nMAINPID=\(masterPID)", "ready again once the reload is over")

        let stop = try cluster.command(["stop"])
        XCTAssertEqual(stop.status, 0, stop.output)
        XCTAssertEqual(try listener.receive(), "STOPPING=1")
        XCTAssertEqual(try master.waitForExit(timeout: .seconds(20)), 0)
        XCTAssertNil(listener.receiveIfAny(), "nothing after STOPPING=1")
    }

    func testADaemonizedMasterNamesItselfTheMainProcessOnAnAbstractSocket() throws {
        cluster = try SupervisedCluster()
        let listener = try NotifySocketListener(name: "@datacentered-test-\(UUID().uuidString.prefix(8))")
        self.listener = listener
        cluster.extraEnvironment = ["NOTIFY_SOCKET": listener.name]
        let started = try cluster.command(["start", "-d"], timeout: .seconds(120))
        XCTAssertEqual(started.status, 0, started.output)
        let daemon = try XCTUnwrap(cluster.runDirectory.recordedPID())
        XCTAssertEqual(try listener.receive(), "READY=1\nMAINPID=\(daemon)", "the daemon, not the `start -d` that systemd ran, is the main process")

        let stop = try cluster.command(["stop"])
        XCTAssertEqual(stop.status, 0, stop.output)
        XCTAssertEqual(try listener.receive(), "STOPPING=1")
        XCTAssertEqual(SupervisedCluster.waitUntilGone([daemon]), [])
    }
}

/// The notifier alone: only what follows from the last state sent goes out.
final class SystemdNotifierTests: XCTestCase {
    func testOnlyStatesThatFollowTheLastOneAreSent() throws {
        let listener = try NotifySocketListener(name: "@datacentered-notifier-\(UUID().uuidString.prefix(8))")
        defer { listener.close() }
        let notifier = SystemdNotifier(socketName: listener.name)
        XCTAssertFalse(try notifier.notify(.reloading), "not while starting")
        XCTAssertTrue(try notifier.notify(.ready))
        XCTAssertTrue(try notifier.notify(.reloading))
        XCTAssertFalse(try notifier.notify(.reloading), "a second reload during the first is not announced")
        XCTAssertTrue(try notifier.notify(.ready))
        XCTAssertTrue(try notifier.notify(.stopping))
        XCTAssertFalse(try notifier.notify(.ready), "nothing after stopping")
        XCTAssertFalse(try notifier.notify(.stopping))
        let sent = (0..<4).compactMap { _ in try? listener.receive(timeout: .seconds(5)) }.map { $0.split(separator: "\n").first.map(String.init) ?? "" }
        XCTAssertEqual(sent, ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"])
        XCTAssertNil(listener.receiveIfAny())
    }

    func testASocketThatIsNotThereIsAnErrorNamingIt() {
        let notifier = SystemdNotifier(socketName: "/nonexistent/notify-\(UUID().uuidString.prefix(8))")
        XCTAssertThrowsError(try notifier.notify(.ready)) { error in
            XCTAssertTrue("\(error)".contains("NOTIFY_SOCKET=/nonexistent/"), "\(error)")
        }
    }
}
