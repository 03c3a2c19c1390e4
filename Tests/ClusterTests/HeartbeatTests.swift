import ClusterTesting
import Foundation
import NIOCore
import XCTest

/// GatewayWorker's heartbeat (`--ping-interval`, `--ping-not-response-limit`, `--ping-data`), each
/// variant of the Workerman manual's chapter 9 with a one-second interval.
final class HeartbeatTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    private func startCluster(interval: String = "1", limit: Int, pingData: String) throws -> TestCluster.Gateway {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: [
            "--ping-interval", interval, "--ping-not-response-limit", "\(limit)", "--ping-data", pingData,
            "--stats-interval", "0.2",
        ])
        let worker = try cluster.startWorker()
        try cluster.waitUntilLinked(worker, to: gateway)
        return gateway
    }

    /// Limit 0: pings go out as text messages, and a client that never answers stays connected.
    func testPingDataWithoutLimitNeverClosesASilentClient() async throws {
        let gateway = try startCluster(limit: 0, pingData: #"{"type":"ping"}"#)
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        for _ in 0..<3 {
            let ping = try await client.receive(timeout: .seconds(10))
            XCTAssertEqual(ping.opcode, .text)
            XCTAssertEqual(String(buffer: ping.data), #"{"type":"ping"}"#)
        }
        XCTAssertTrue(client.isOpen)
        let counters = try await GatewayStatisticsLog.wait(for: gateway) { ($0["messages_out"] ?? 0) >= 3 }
        XCTAssertEqual(counters["heartbeat_timeouts"], 0)
        await client.close()
    }

    /// Limit 1 with pingData: a client that answers each ping stays; one that never does is
    /// disconnected after a ping it left unanswered.
    func testUnansweredPingsDisconnectASilentClient() async throws {
        let gateway = try startCluster(limit: 1, pingData: "ping")
        let silent = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let answering = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let answers = Task {
            // Answers every ping; the echo worker sends each answer back, which it skips.
            var pings = 0
            while true {
                let message = try await answering.receiveText(timeout: .seconds(10))
                guard message == "ping" else { continue }
                pings += 1
                try await answering.send("pong \(pings)")
            }
        }
        defer { answers.cancel() }
        let ping = try await silent.receiveText(timeout: .seconds(10))
        XCTAssertEqual(ping, "ping")
        _ = try await silent.waitForClose(timeout: .seconds(10))
        XCTAssertFalse(silent.isOpen)
        XCTAssertTrue(answering.isOpen, "a client that answers pings must stay connected")
        let counters = try await GatewayStatisticsLog.wait(for: gateway) { ($0["heartbeat_timeouts"] ?? 0) >= 1 }
        XCTAssertEqual(counters["heartbeat_timeouts"], 1)
        XCTAssertEqual(counters["clients"], 1)
    }

    /// Empty pingData: the gateway sends nothing and only polices the clients' own heartbeats;
    /// a WebSocket ping from the client counts as one.
    func testEmptyPingDataOnlyPolicesClientHeartbeats() async throws {
        let gateway = try startCluster(interval: "2", limit: 1, pingData: "")
        let silent = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let talking = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let controlPinging = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let heartbeats = Task {
            var beat = 0
            while !Task.isCancelled {
                beat += 1
                try await talking.send("beat \(beat)")
                try await controlPinging.send(frame: .init(fin: true, opcode: .ping, data: ByteBuffer(string: "\(beat)")))
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        defer { heartbeats.cancel() }
        let code = try await silent.waitForClose(timeout: .seconds(15))
        XCTAssertNil(code, "a silent client is destroyed, without a close frame")
        let firstReceived = try await talking.receiveText()
        XCTAssertEqual(firstReceived, "beat 1", "the gateway itself sends no ping")
        XCTAssertTrue(talking.isOpen)
        XCTAssertTrue(controlPinging.isOpen)
        await XCTAssertThrowsErrorAsync(try await controlPinging.receive(timeout: .milliseconds(300)), "no ping data expected")
    }

    /// Interval 0 disables the heartbeat even with pingData and a limit.
    func testZeroIntervalDisablesTheHeartbeat() async throws {
        let gateway = try startCluster(interval: "0", limit: 1, pingData: "ping")
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        _ = try await GatewayStatisticsLog.wait(for: gateway) { $0["clients"] == 1 }
        await XCTAssertThrowsErrorAsync(try await client.receive(timeout: .seconds(3)), "no ping expected")
        XCTAssertTrue(client.isOpen)
        XCTAssertEqual(GatewayStatisticsLog.latest(gateway)?["heartbeat_timeouts"], 0)
        await client.close()
    }
}
