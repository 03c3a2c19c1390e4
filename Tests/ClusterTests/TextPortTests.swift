import ClusterTesting
import Foundation
import NIOCore
import XCTest

/// The gateway's internal text port, end to end: a real gateway with `--listen-text`, a real echo
/// worker, raw TCP line clients next to WebSocket clients.
final class TextPortTests: XCTestCase {
    private static let maxLineLength = 1024

    private var cluster: TestCluster!
    private var gateway: TestCluster.Gateway!
    private var textPort = 0

    override func setUp() async throws {
        cluster = try TestCluster()
        textPort = freeTCPPort()
        gateway = try cluster.startGateway(extraArguments: [
            "--listen-text", "127.0.0.1:\(textPort)", "--max-message-size", "\(Self.maxLineLength)",
        ])
        try gateway.process.waitForOutput(containing: "text port listening on")
        let worker = try cluster.startWorker()
        try cluster.waitUntilLinked(worker, to: gateway)
    }

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    /// A text client that the gateway has certainly admitted: its first line has come back.
    private func admittedTextClient() async throws -> TextLineTestClient {
        let client = try await TextLineTestClient.connect(port: textPort)
        try await client.send("ready?")
        let echo = try await client.receiveLine()
        XCTAssertEqual(echo, "ready?")
        return client
    }

    func testLinesEchoBackAsLines() async throws {
        let client = try await TextLineTestClient.connect(port: textPort)
        try await client.send("hello")
        let hello = try await client.receiveLine()
        XCTAssertEqual(hello, "hello")
        // Several lines in one write, CRLF, empty lines (skipped), a split line: each line is one message, in order.
        try await client.send(bytes: Array("one\r\ntwo\n\n\r\nthr".utf8))
        try await client.send(bytes: Array("ee\n".utf8))
        for expected in ["one", "two", "three"] {
            let line = try await client.receiveLine()
            XCTAssertEqual(line, expected)
        }
        await XCTAssertThrowsErrorAsync(try await client.receiveLine(timeout: .milliseconds(300)))
        await client.close()
    }

    func testBroadcastFromATextClientReachesWebSocketAndTextClients() async throws {
        let browser = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let sender = try await TextLineTestClient.connect(port: textPort)
        let other = try await admittedTextClient()
        try await sender.send("B all")
        let seenByBrowser = try await browser.receiveText()
        XCTAssertEqual(seenByBrowser, "B all")
        for client in [sender, other] {
            let line = try await client.receiveLine()
            XCTAssertEqual(line, "B all")
        }
        await browser.close()
        await sender.close()
        await other.close()
    }

    func testBroadcastFromAWebSocketClientArrivesAsALine() async throws {
        let listener = try await admittedTextClient()
        let browser = try await WebSocketTestClient.connect(port: gateway.publicPort)
        try await browser.send("B from the browser")
        let line = try await listener.receiveLine()
        XCTAssertEqual(line, "B from the browser")
        _ = try await browser.receiveText()
        await browser.close()
        await listener.close()
    }

    func testOverLongLineGetsAnErrorLineAndACloseWhileOthersGoOn() async throws {
        let bystander = try await admittedTextClient()
        let offender = try await TextLineTestClient.connect(port: textPort)
        // No newline at all: the gateway must not wait for one.
        try await offender.send(bytes: [UInt8](repeating: UInt8(ascii: "x"), count: Self.maxLineLength * 4))
        let error = try await offender.receiveLine()
        XCTAssertEqual(error, "ERROR line too long: max \(Self.maxLineLength) bytes")
        try await offender.waitForClose()

        try await bystander.send("still here")
        let echo = try await bystander.receiveLine()
        XCTAssertEqual(echo, "still here")
        await bystander.close()
    }

    func testLineOfExactlyTheMaximumIsDelivered() async throws {
        let client = try await TextLineTestClient.connect(port: textPort)
        let longest = String(repeating: "y", count: Self.maxLineLength)
        try await client.send(longest + "\r")
        let echo = try await client.receiveLine()
        XCTAssertEqual(echo, longest)
        await client.close()
    }

    func testInvalidUTF8GetsAnErrorLineAndAClose() async throws {
        let client = try await admittedTextClient()
        // The close does not wait for replies still on their way from a worker, so send the bad line alone.
        try await client.send(bytes: [0x62, 0xFF, 0x0A])
        let error = try await client.receiveLine()
        XCTAssertEqual(error, "ERROR line is not valid UTF-8")
        try await client.waitForClose()
    }

    /// What the README shows: a shell script pushes a line with bash's /dev/tcp, and with nc when installed.
    func testShellScriptsPushAndReadLines() async throws {
        let browser = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let exchange = try CommandRunner.run(
            "/bin/bash",
            [
                "-c",
                """
            exec 3<>/dev/tcp/127.0.0.1/\(textPort)
            printf 'hello from bash\\n' >&3
            read -r -t 5 reply <&3
            echo "reply: $reply"
            printf 'B pushed by bash\\n' >&3
            exec 3>&-
            """,
            ],
            timeout: .seconds(20)
        )
        XCTAssertEqual(exchange.status, 0, exchange.output)
        XCTAssertTrue(exchange.output.contains("reply: hello from bash"), exchange.output)
        let pushed = try await browser.receiveText()
        XCTAssertEqual(pushed, "B pushed by bash")

        if FileManager.default.isExecutableFile(atPath: "/usr/bin/nc") || FileManager.default.isExecutableFile(atPath: "/bin/nc") {
            let push = try CommandRunner.run("/bin/bash", ["-c", "printf 'B pushed by nc\\n' | nc -q1 127.0.0.1 \(textPort)"], timeout: .seconds(20))
            XCTAssertEqual(push.status, 0, push.output)
            let viaNC = try await browser.receiveText()
            XCTAssertEqual(viaNC, "B pushed by nc")
            // nc ends its side after the last line; the replies still come back before the gateway closes.
            let ask = try CommandRunner.run("/bin/bash", ["-c", "printf 'one\\ntwo\\n' | nc -q 1 127.0.0.1 \(textPort)"], timeout: .seconds(20))
            XCTAssertEqual(ask.status, 0, ask.output)
            XCTAssertEqual(ask.standardOutput, "one\ntwo\n")
        }
        await browser.close()
    }
}
