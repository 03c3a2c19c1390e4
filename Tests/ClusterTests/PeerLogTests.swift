import ClusterTesting
import Foundation
import NIOCore
import Wire
import XCTest

/// What peers can make a gateway log: a flood is logged once and counted, and their text cannot forge a line.
final class PeerLogTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testAFloodOfRefusedLinksIsLoggedOnceAndCountedInFull() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--stats-interval", "0.2"])
        var hello = ByteBuffer()
        hello.writeGatewayFrame(GatewayFrame(command: .workerConnect, body: ByteBuffer(string: "not json")))
        for _ in 0..<100 {
            let outcome = try await RawTCPClient.exchange(port: gateway.lanPort, bytes: Array(hello.readableBytesView))
            XCTAssertTrue(outcome.closedByPeer)
        }
        _ = try await GatewayStatisticsLog.wait(for: gateway) { $0["links_refused"] == 100 }
        let lines = gateway.process.output.split(separator: "\n").filter { $0.contains("refused worker link") }
        XCTAssertEqual(lines.count, 1, "\(lines)")
    }

    func testAWorkerNameCannotForgeALogLine() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        let forged = "2026-11-22T01:02:03.456Z gateway[1] critical: forged"
        let worker = try cluster.startWorker(name: "evil\n\(forged)\u{1B}[2J")
        try cluster.waitUntilLinked(worker, to: gateway)
        try gateway.process.waitForOutput(containing: #"worker=evil\n2026-11-22T01:02:03.456Z gateway[1] critical: forged\u{1B}[2J"#, timeout: .seconds(5))
        for line in gateway.process.output.split(separator: "\n") {
            XCTAssertFalse(line.hasPrefix("2026-11-22T01:02:03.456Z gateway[1]"), "forged line: \(line)")
            XCTAssertFalse(line.contains("\u{1B}"), "escape sequence in: \(line)")
        }
    }
}
