import ClusterTesting
import Foundation
import NIOCore
import Wire
import XCTest

/// Bad input gets a clear error, closes only what it must, and the gateway keeps serving.
final class BadInputTests: XCTestCase {
    private var cluster: TestCluster!
    private var gateway: TestCluster.Gateway!
    private var bystander: WebSocketTestClient!

    override func setUp() async throws {
        cluster = try TestCluster()
        gateway = try cluster.startGateway(extraArguments: ["--link-hello-timeout", "2", "--no-dashboard"])
        let worker = try cluster.startWorker()
        try cluster.waitUntilLinked(worker, to: gateway)
        bystander = try await WebSocketTestClient.connect(port: gateway.publicPort)
    }

    override func tearDown() async throws {
        await bystander?.abort()
        cluster?.stopAll()
    }

    private func assertBystanderStillServed(_ tag: String) async throws {
        try await bystander.send("still served after \(tag)")
        let reply = try await bystander.receiveText()
        XCTAssertEqual(reply, "still served after \(tag)")
        XCTAssertTrue(gateway.process.isRunning)
    }

    func testWrongSecretKeyIsRefusedAndNotLogged() async throws {
        let wrongKey = "not-the-key-\(UUID().uuidString)"
        let intruder = try cluster.startWorker(name: "intruder", secretKey: wrongKey)
        try intruder.waitForOutput(containing: "gateway refused the link: wrong secret key", timeout: .seconds(10))
        try gateway.process.waitForOutput(containing: "refused worker link", timeout: .seconds(5))
        XCTAssertFalse(gateway.process.output.contains(wrongKey), "the offered key appears in the gateway log")
        XCTAssertFalse(gateway.process.output.contains(cluster.secretKey), "the real key appears in the gateway log")
        try await assertBystanderStillServed("a wrong key")
    }

    func testTruncatedFrameClosesOnlyThatLink() async throws {
        var frame = ByteBuffer()
        frame.writeGatewayFrame(.handshake(.workerConnect, LinkHello(workerKey: "raw:1", nonce: LinkKey.makeNonce())))
        let truncated = Array(frame.readableBytesView.dropLast(5))
        let outcome = try await RawTCPClient.exchange(port: gateway.lanPort, bytes: truncated, timeout: .seconds(10))
        XCTAssertTrue(outcome.closedByPeer, "a link that never completes its hello is closed")
        try gateway.process.waitForOutput(containing: "no proof of the key within", timeout: .seconds(5))
        try await assertBystanderStillServed("a truncated frame")
    }

    func testOversizedLengthIsRefused() async throws {
        let oversized: [UInt8] = [0xff, 0xff, 0xff, 0xf0, GatewayCommand.workerConnect.rawValue] + Array(repeating: 0, count: 23)
        let outcome = try await RawTCPClient.exchange(port: gateway.lanPort, bytes: oversized)
        XCTAssertTrue(outcome.closedByPeer)
        try gateway.process.waitForOutput(containing: "above the maximum", timeout: .seconds(5))
        try await assertBystanderStillServed("an oversized length")
    }

    func testUndersizedLengthIsRefused() async throws {
        let outcome = try await RawTCPClient.exchange(port: gateway.lanPort, bytes: [0, 0, 0, 4, 1, 2, 3, 4])
        XCTAssertTrue(outcome.closedByPeer)
        try gateway.process.waitForOutput(containing: "below the 28-byte header", timeout: .seconds(5))
        try await assertBystanderStillServed("an undersized length")
    }

    func testGarbageHTTPRequestGetsA4xx() async throws {
        let garbage = Array("GARBAGE \u{1}\u{2} nonsense\r\n\r\n".utf8)
        let garbageOutcome = try await RawTCPClient.exchange(port: gateway.publicPort, bytes: garbage)
        XCTAssertTrue(String(decoding: garbageOutcome.received, as: UTF8.self).hasPrefix("HTTP/1.1 400"))
        XCTAssertTrue(garbageOutcome.closedByPeer)

        let plainGet = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let plainOutcome = try await RawTCPClient.exchange(port: gateway.publicPort, bytes: plainGet)
        let response = String(decoding: plainOutcome.received, as: UTF8.self)
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 426"), response)
        XCTAssertTrue(response.contains("WebSocket endpoint"), response)

        let brokenUpgrade = Array("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8)
        let brokenOutcome = try await RawTCPClient.exchange(port: gateway.publicPort, bytes: brokenUpgrade)
        let brokenResponse = String(decoding: brokenOutcome.received, as: UTF8.self)
        XCTAssertTrue(brokenResponse.hasPrefix("HTTP/1.1 4"), brokenResponse)
        try await assertBystanderStillServed("garbage HTTP")
    }

    func testOversizedMessageClosesWith1009() async throws {
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let big = String(repeating: "x", count: (1 << 20) + 1)
        try await client.send(big)
        let code = try await client.waitForClose()
        XCTAssertEqual(code, .messageTooLarge)
        try await assertBystanderStillServed("an oversized message")
    }
}
