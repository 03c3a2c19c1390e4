import ClusterTesting
import Foundation
import NIOCore
import XCTest

/// Echo and broadcast through one real gateway and two real workers found through memcached.
final class EchoBroadcastTests: XCTestCase {
    private var cluster: TestCluster!
    private var gateway: TestCluster.Gateway!

    override func setUp() async throws {
        cluster = try TestCluster()
        gateway = try cluster.startGateway()
        for name in ["echo-a", "echo-b"] {
            let worker = try cluster.startWorker(name: name)
            try cluster.waitUntilLinked(worker, to: gateway)
        }
    }

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testEchoGoesBackToTheSenderOnly() async throws {
        let alice = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let bob = try await WebSocketTestClient.connect(port: gateway.publicPort)
        for index in 0..<20 {
            try await alice.send("hello \(index)")
            let reply = try await alice.receiveText()
            XCTAssertEqual(reply, "hello \(index)")
        }
        try await bob.send("bob's own")
        let bobsReply = try await bob.receiveText()
        XCTAssertEqual(bobsReply, "bob's own")
        await XCTAssertThrowsErrorAsync(try await alice.receive(timeout: .milliseconds(300)))
        await alice.close()
        await bob.close()
    }

    func testBinaryMessagesEchoAsBinary() async throws {
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let payload = ByteBuffer(bytes: [0, 1, 2, 0xff, 0xfe])
        try await client.send(frame: .init(fin: true, opcode: .binary, data: payload))
        let reply = try await client.receive()
        XCTAssertEqual(reply.opcode, .binary)
        XCTAssertEqual(reply.data, payload)
        await client.close()
    }

    func testFragmentedMessageIsReassembled() async throws {
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        try await client.send(frame: .init(fin: false, opcode: .text, data: ByteBuffer(string: "frag")))
        try await client.send(frame: .init(fin: false, opcode: .continuation, data: ByteBuffer(string: "men")))
        try await client.send(frame: .init(fin: true, opcode: .continuation, data: ByteBuffer(string: "ted")))
        let reply = try await client.receiveText()
        XCTAssertEqual(reply, "fragmented")
        await client.close()
    }

    func testBroadcastReachesEveryClientIncludingTheSender() async throws {
        var clients: [WebSocketTestClient] = []
        for _ in 0..<5 { clients.append(try await WebSocketTestClient.connect(port: gateway.publicPort)) }
        try await clients[2].send("B everyone")
        for client in clients {
            let received = try await client.receiveText()
            XCTAssertEqual(received, "B everyone")
        }
        for client in clients { await client.close() }
    }

    func testPingIsAnsweredAndCloseIsEchoed() async throws {
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        try await client.send(frame: .init(fin: true, opcode: .ping, data: ByteBuffer(string: "are you there")))
        try await client.send("after ping")
        let reply = try await client.receiveText()
        XCTAssertEqual(reply, "after ping")
        var code = ByteBuffer()
        code.write(webSocketErrorCode: .goingAway)
        try await client.send(frame: .init(fin: true, opcode: .connectionClose, data: code))
        let echoed = try await client.waitForClose()
        XCTAssertEqual(echoed, .goingAway)
    }

    /// Python's `websockets`, a client nobody here wrote, sees the same echo and broadcast.
    func testPythonWebSocketsClient() async throws {
        let observer = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let script = """
            import asyncio, sys, websockets
            async def main():
                async with websockets.connect(sys.argv[1]) as ws:
                    await ws.send("ping from python")
                    print("echo:", await asyncio.wait_for(ws.recv(), 5))
                    await ws.send("B from python")
                    print("broadcast:", await asyncio.wait_for(ws.recv(), 5))
            asyncio.run(main())
            """
        let result = try PythonScript.run(script, arguments: ["ws://127.0.0.1:\(gateway.publicPort)/"], timeout: .seconds(30))
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("echo: ping from python"), result.output)
        XCTAssertTrue(result.output.contains("broadcast: B from python"), result.output)
        let seenByObserver = try await observer.receiveText()
        XCTAssertEqual(seenByObserver, "B from python")
        await observer.close()
    }
}
