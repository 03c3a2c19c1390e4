import ClusterTesting
import Foundation
import NIOCore
import Wire
import XCTest

/// A machine that vanishes without a TCP reset (here: a process frozen with SIGSTOP, whose kernel
/// still acknowledges every byte) is noticed by the link keepalive in about 3 s.
final class LinkKeepaliveTests: XCTestCase {
    private var cluster: TestCluster!
    private var frozen: [ManagedProcess] = []

    override func tearDown() async throws {
        for process in frozen { process.thaw() }
        cluster?.stopAll()
    }

    func testAFrozenWorkerIsDeclaredDeadAndItsEventsGoToTheOther() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--stats-interval", "0.2"])
        let doomed = try cluster.startWorker(name: "doomed", handler: "probe")
        try cluster.waitUntilLinked(doomed, to: gateway)
        // Linked alone, the doomed worker takes this client.
        let client = try await ProbeClient.connect(port: gateway.publicPort)
        let survivor = try cluster.startWorker(name: "survivor", handler: "probe")
        try cluster.waitUntilLinked(survivor, to: gateway)

        try doomed.freeze()
        frozen.append(doomed)
        let frozenAt = ContinuousClock.now
        try await client.socket.send(#"{"id":101,"call":"whoami"}"#)
        let reply = try JSONDecoder().decode(JSONValue.self, from: Data(try await client.socket.receiveText(timeout: .seconds(15)).utf8))
        let elapsed = ContinuousClock.now - frozenAt
        XCTAssertEqual(reply["id"], 101)
        XCTAssertEqual(reply["result"]?["redelivered"], true, "the frozen worker held the event unacknowledged")
        XCTAssertTrue(reply["result"]?["worker"]?.stringValue?.hasPrefix("survivor") ?? false, "\(reply)")
        // Three silent 1 s intervals, plus the loaded machine's slack.
        XCTAssertLessThan(elapsed, .seconds(6), "took \(elapsed)")
        try gateway.process.waitForOutput(containing: "worker link silent: nothing heard for 3", timeout: .seconds(5))
        _ = try await GatewayStatisticsLog.wait(for: gateway) { ($0["redelivered_events"] ?? 0) > 0 }
        XCTAssertTrue(client.socket.isOpen)
        print("frozen worker's event answered by the other after \(elapsed)")
    }

    func testAWorkerDropsAFrozenGateway() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        let worker = try cluster.startWorker()
        try cluster.waitUntilLinked(worker, to: gateway)
        try gateway.process.freeze()
        frozen.append(gateway.process)
        try worker.waitForOutput(containing: "nothing heard from the gateway for 3", timeout: .seconds(8))
        try worker.waitForOutput(containing: "link to gateway lost", timeout: .seconds(5))
    }

    func testAWorkerDropsAGatewayWhoseRegistrationExpired() async throws {
        cluster = try TestCluster()
        // Without keepalive, only the registry says the frozen gateway is gone.
        let off = ["--link-keepalive-interval", "0"]
        let gateway = try cluster.startGateway(extraArguments: off)
        let worker = try cluster.startWorker(extraArguments: off)
        try cluster.waitUntilLinked(worker, to: gateway)
        try gateway.process.freeze()
        frozen.append(gateway.process)
        // Registration expiry (6 s) plus three discovery rounds.
        try worker.waitForOutput(containing: "forgot gateway \(gateway.lanAddress): no longer registered", timeout: .seconds(20))
    }
}
