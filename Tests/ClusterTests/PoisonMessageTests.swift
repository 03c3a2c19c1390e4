import ClusterTesting
import Foundation
import NIOCore
import NIOWebSocket
import Wire
import XCTest

/// No input from one client can break a worker link again and again: sizes are checked at start, a
/// reply too large fails its call alone, and an event whose delivery keeps breaking links is dropped.
final class PoisonMessageTests: XCTestCase {
    private var cluster: TestCluster!
    private var frozen: ManagedProcess?

    override func tearDown() async throws {
        frozen?.thaw()
        cluster?.stopAll()
    }

    func testAMessageSizeThatCannotFitALinkFrameIsRefusedAtStart() throws {
        cluster = try TestCluster()
        // The issue's case: 16 MiB messages with the 16 MiB link frame.
        let outcome = try CommandRunner.run(
            TestCluster.binaryPath,
            ["gateway", "--listen", "127.0.0.1:0", "--lan-port", "\(freeTCPPort())", "--max-message-size", "16777216", "--memcached", cluster.memcached.address],
            environment: ["DATACENTERED_SECRET_KEY": cluster.secretKey],
            timeout: .seconds(20)
        )
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.standardError.contains("does not fit in a worker link frame of 16777216 bytes"), outcome.output)
        XCTAssertTrue(outcome.standardError.contains("raise --max-link-frame-size"), outcome.output)
    }

    func testTheLargestMessageAGatewayAcceptsCrossesTheLink() async throws {
        cluster = try TestCluster()
        let sizes = ["--max-message-size", "200000", "--max-link-frame-size", "265536"]
        let gateway = try cluster.startGateway(extraArguments: sizes)
        let worker = try cluster.startWorker(extraArguments: ["--max-link-frame-size", "265536"])
        try cluster.waitUntilLinked(worker, to: gateway)
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let largest = String(repeating: "m", count: 200_000)
        try await client.send(largest)
        let echoed = try await client.receiveText(timeout: .seconds(10))
        XCTAssertEqual(echoed.count, 200_000)
        await client.close()
    }

    func testAWorkerAcceptingSmallerFramesIsRefusedClearly() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        let worker = try cluster.startWorker(extraArguments: ["--max-link-frame-size", "100000"])
        try worker.waitForOutput(containing: "it accepts frames up to 100000 bytes and this gateway sends up to 16777216", timeout: .seconds(10))
        try gateway.process.waitForOutput(containing: "give gateways and workers the same --max-link-frame-size", timeout: .seconds(5))
    }

    func testAReplyTooLargeForTheLinkFailsThatCallAndTheLinkStays() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--max-message-size", "100000", "--max-link-frame-size", "165536"])
        let worker = try cluster.startWorker(handler: "probe", extraArguments: ["--max-link-frame-size", "165536"])
        try cluster.waitUntilLinked(worker, to: gateway)
        let client = try await ProbeClient.connect(port: gateway.publicPort)
        do {
            try await client.call("sendRepeated", ["text": .string(String(repeating: "r", count: 1000)), "times": 200])
            XCTFail("a 200 KB reply crossed a 165536-byte link")
        } catch let error as ProbeClient.CallError {
            XCTAssertTrue(error.description.contains("larger than a gateway link carries (165536 bytes): not sent"), error.description)
        }
        // The same link carries the next call.
        let whoami = try await client.call("whoami")
        XCTAssertEqual(whoami["redelivered"], false)
        XCTAssertFalse(worker.output.contains("link to gateway lost"))
        XCTAssertFalse(gateway.process.output.contains("worker link closed"))
    }

    func testAnEventWhoseDeliveryKilledItsWorkerIsDroppedAndItsClientClosedWith1011() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--max-event-delivery-failures", "1", "--stats-interval", "0.2"])
        let doomed = try cluster.startWorker(name: "doomed", handler: "probe")
        try cluster.waitUntilLinked(doomed, to: gateway)
        let victim = try await ProbeClient.connect(port: gateway.publicPort)
        let survivor = try cluster.startWorker(name: "survivor", handler: "probe")
        try cluster.waitUntilLinked(survivor, to: gateway)
        let bystander = try await ProbeClient.connect(port: gateway.publicPort)

        // The doomed worker takes the event and dies holding it: with a limit of 1, it is not handed out again.
        try doomed.freeze()
        frozen = doomed
        let secret = "payload-\(UUID().uuidString)"
        try await victim.socket.send(#"{"id":7,"call":"whoami","args":{"note":"\#(secret)"}}"#)
        _ = try await GatewayStatisticsLog.wait(for: gateway) { ($0["messages_in"] ?? 0) >= 3 }
        doomed.kill()
        let code = try await victim.socket.waitForClose(timeout: .seconds(10))
        XCTAssertEqual(code, .unexpectedServerError)
        try gateway.process.waitForOutput(containing: "dropped a client event, closing its client with 1011", timeout: .seconds(5))
        XCTAssertTrue(gateway.process.output.contains("client=\(victim.id!)"), "the log names the client")
        XCTAssertFalse(gateway.process.output.contains(secret), "the payload is never logged")
        _ = try await GatewayStatisticsLog.wait(for: gateway) { $0["poison_events"] == 1 }
        // Everyone else is served.
        let whoami = try await bystander.call("whoami")
        XCTAssertTrue(whoami["worker"]?.stringValue?.hasPrefix("survivor") ?? false)
    }
}
