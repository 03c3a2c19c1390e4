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

    /// Broadcasts messages of 16 KB from `broadcaster` (which reads all it is sent) until the
    /// gateway's statistics satisfy `condition`, while another client has stopped reading; returns
    /// how many it sent.
    private func overflow(
        from broadcaster: WebSocketTestClient,
        gateway: TestCluster.Gateway,
        until condition: @escaping ([String: Int]) -> Bool
    ) async throws -> Int {
        let payload = String(repeating: "x", count: 16 * 1024)
        var sent = 0
        while GatewayStatisticsLog.latest(gateway).map(condition) != true {
            guard sent < 4000 else {
                XCTFail("64 MB broadcast and the send buffer of a client that does not read never filled")
                break
            }
            for _ in 0..<20 {
                try await broadcaster.send("B \(sent) \(payload)")
                sent += 1
                _ = try await broadcaster.receiveText(timeout: .seconds(10))
            }
        }
        return sent
    }

    func testFullSendBufferDropsAndCountsAndKeepsTheClientWhenToldTo() async throws {
        let gateway = try startCluster(["--client-send-buffer", "65536", "--on-send-buffer-full", "drop", "--stats-interval", "0.2"])
        let stalled = try await WebSocketTestClient.connect(port: gateway.publicPort, receiveBufferSize: 4096)
        try await stalled.pauseReading()
        let broadcaster = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let sent = try await overflow(from: broadcaster, gateway: gateway) { ($0["send_buffer_drops"] ?? 0) > 0 }

        // Reading again, the client gets what was kept, then its own messages once its buffer has room.
        try await stalled.resumeReading()
        var broadcastsReceived = 0
        var probe = 0
        probing: while true {
            probe += 1
            try await stalled.send("probe \(probe)")
            while let message = try? await stalled.receiveText(timeout: .seconds(1)) {
                if message.hasPrefix("probe ") { break probing }
                broadcastsReceived += 1
            }
            XCTAssertLessThan(probe, 30, "the client never got its own messages back")
            guard probe < 30 else { break }
        }
        XCTAssertLessThan(broadcastsReceived, sent, "some broadcasts must have been dropped")
        XCTAssertTrue(stalled.isOpen)
        let counters = try await GatewayStatisticsLog.wait(for: gateway) { $0["messages_in"] == sent + probe }
        XCTAssertGreaterThanOrEqual(counters["send_buffer_drops"] ?? 0, sent - broadcastsReceived)
        XCTAssertEqual(counters["send_buffer_closes"], 0)
        XCTAssertEqual(counters["clients"], 2)
        await stalled.close()
        await broadcaster.close()
        // Counted per client too: the gateway says how many this client missed when it leaves.
        try gateway.process.waitForOutput(containing: "client left having missed messages (send buffer full)", timeout: .seconds(5))
    }

    func testFullSendBufferClosesTheClientWith1013ByDefault() async throws {
        let gateway = try startCluster(["--client-send-buffer", "65536", "--stats-interval", "0.2"])
        let stalled = try await WebSocketTestClient.connect(port: gateway.publicPort, receiveBufferSize: 4096)
        try await stalled.pauseReading()
        let broadcaster = try await WebSocketTestClient.connect(port: gateway.publicPort)
        _ = try await overflow(from: broadcaster, gateway: gateway) { ($0["send_buffer_closes"] ?? 0) > 0 }
        try await stalled.resumeReading()
        // Everything queued before the close frame drains first.
        let code = try await stalled.waitForClose(timeout: .seconds(15))
        XCTAssertEqual(code, .unknown(1013))
        XCTAssertTrue(broadcaster.isOpen)
        await broadcaster.close()
    }

    func testSlowHandshakeIsClosedAfterTheHandshakeTimeout() async throws {
        let gateway = try startCluster(["--handshake-timeout", "1"])
        let outcome = try await RawTCPClient.exchange(port: gateway.publicPort, bytes: Array("GET / HT".utf8), timeout: .seconds(15))
        XCTAssertTrue(outcome.closedByPeer, "a request line never finished must be closed by the gateway")
        XCTAssertTrue(outcome.received.isEmpty)
    }
}
