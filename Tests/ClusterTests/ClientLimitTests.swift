import ClusterTesting
import Foundation
import NIOCore
import XCTest

/// What a client may not do: send text that is not UTF-8, stop reading while messages pile up for
/// it, or take forever over its handshake.
final class ClientLimitTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    private func startCluster(_ gatewayArguments: [String] = []) throws -> TestCluster.Gateway {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: gatewayArguments)
        let worker = try cluster.startWorker()
        try cluster.waitUntilLinked(worker, to: gateway)
        return gateway
    }

    func testInvalidUTF8TextClosesWith1007AfterReassembly() async throws {
        let gateway = try startCluster()
        // "é" split between two fragments is valid once reassembled.
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        try await client.send(frame: .init(fin: false, opcode: .text, data: ByteBuffer(bytes: [0x63, 0x61, 0x66, 0xC3])))
        try await client.send(frame: .init(fin: true, opcode: .continuation, data: ByteBuffer(bytes: [0xA9])))
        let reply = try await client.receiveText()
        XCTAssertEqual(reply, "café")

        try await client.send(frame: .init(fin: true, opcode: .text, data: ByteBuffer(bytes: [0x61, 0xC3, 0x28])))
        let code = try await client.waitForClose()
        XCTAssertEqual(code, .dataInconsistentWithMessage)

        // Binary messages are not UTF-8 checked.
        let binary = try await WebSocketTestClient.connect(port: gateway.publicPort)
        try await binary.send(frame: .init(fin: true, opcode: .binary, data: ByteBuffer(bytes: [0xC3, 0x28])))
        let echoed = try await binary.receive()
        XCTAssertEqual(echoed.data, ByteBuffer(bytes: [0xC3, 0x28]))
        await binary.close()
    }

    /// Makes `client` (which has stopped reading) send echo requests of 16 KB until the gateway's
    /// statistics satisfy `condition`; returns how many it sent.
    private func overflow(
        _ client: WebSocketTestClient,
        gateway: TestCluster.Gateway,
        until condition: @escaping ([String: Int]) -> Bool
    ) async throws -> Int {
        let payload = String(repeating: "x", count: 16 * 1024)
        var sent = 0
        while GatewayStatisticsLog.latest(gateway).map(condition) != true {
            XCTAssertLessThan(sent, 4000, "64 MB sent to a client that does not read and its buffer never filled")
            guard sent < 4000 else { break }
            for _ in 0..<20 { try await client.send("\(sent) \(payload)"); sent += 1 }
            // Give the echoes time to come back through the worker before checking again.
            _ = try? await GatewayStatisticsLog.wait(for: gateway, timeout: .milliseconds(200), until: condition)
        }
        return sent
    }

    func testFullSendBufferDropsAndCountsAndKeepsTheClient() async throws {
        let gateway = try startCluster(["--client-send-buffer", "65536", "--stats-interval", "0.2"])
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort, receiveBufferSize: 4096)
        try await client.pauseReading()
        let sent = try await overflow(client, gateway: gateway) { ($0["send_buffer_drops"] ?? 0) > 0 }

        try await client.resumeReading()
        try await client.send("after the drops")
        var received = 0
        while try await client.receiveText(timeout: .seconds(15)) != "after the drops" { received += 1 }
        XCTAssertLessThan(received, sent, "some echoes must have been dropped")
        XCTAssertTrue(client.isOpen)
        let counters = try await GatewayStatisticsLog.wait(for: gateway) { $0["send_buffer_drops"] == sent - received }
        XCTAssertEqual(counters["send_buffer_closes"], 0)
        await client.close()
    }

    func testFullSendBufferCanCloseTheClientWith1008() async throws {
        let gateway = try startCluster([
            "--client-send-buffer", "65536", "--on-send-buffer-full", "close", "--stats-interval", "0.2",
        ])
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort, receiveBufferSize: 4096)
        try await client.pauseReading()
        _ = try await overflow(client, gateway: gateway) { ($0["send_buffer_closes"] ?? 0) > 0 }
        try await client.resumeReading()
        // Everything queued before the close frame drains first.
        let code = try await client.waitForClose(timeout: .seconds(15))
        XCTAssertEqual(code, .policyViolation)
    }

    func testSlowHandshakeIsClosedAfterTheHandshakeTimeout() async throws {
        let gateway = try startCluster(["--handshake-timeout", "1"])
        let outcome = try await RawTCPClient.exchange(port: gateway.publicPort, bytes: Array("GET / HT".utf8), timeout: .seconds(15))
        XCTAssertTrue(outcome.closedByPeer, "a request line never finished must be closed by the gateway")
        XCTAssertTrue(outcome.received.isEmpty)
    }
}
