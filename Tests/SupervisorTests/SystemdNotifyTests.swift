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
    private var listener: NotifyListener?

    override func tearDown() {
        cluster?.tearDown()
        listener?.close()
    }

    func testTheMasterReportsReadyAfterItsChildrenReloadingAroundAReloadAndStopping() throws {
        cluster = try SupervisedCluster()
        let listener = try NotifyListener(name: cluster.directory.appendingPathComponent("notify.sock").path)
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
        let listener = try NotifyListener(name: "@datacentered-test-\(UUID().uuidString.prefix(8))")
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
        let listener = try NotifyListener(name: "@datacentered-notifier-\(UUID().uuidString.prefix(8))")
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

/// systemd's end of the protocol: a unix datagram socket bound to a path or, for `@name`, to an
/// abstract name of exactly that length.
private final class NotifyListener: @unchecked Sendable {
    let name: String
    private var descriptor: CInt

    init(name: String) throws {
        self.name = name
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes: [UInt8] = name.hasPrefix("@") ? [0] + Array(name.utf8.dropFirst()) : Array(name.utf8) + [0]
        withUnsafeMutablePointer(to: &address.sun_path) { path in
            path.withMemoryRebound(to: UInt8.self, capacity: bytes.count) { start in
                for (index, byte) in bytes.enumerated() { start[index] = byte }
            }
        }
        let length = socklen_t(2 + bytes.count - (name.hasPrefix("@") ? 0 : 1))
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0 else { throw Failure("bind \(name): \(String(cString: strerror(errno)))") }
    }

    /// The next datagram, waiting at most `timeout`.
    func receive(timeout: Duration = .seconds(60)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var poll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if Glibc.poll(&poll, 1, 100) > 0, let message = receiveIfAny() { return message }
        }
        throw Failure("no datagram on \(name) within \(timeout)")
    }

    /// A datagram already waiting, or nil.
    func receiveIfAny() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    func close() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
        if !name.hasPrefix("@") { unlink(name) }
    }
}
