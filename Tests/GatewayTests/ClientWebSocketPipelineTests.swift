import Foundation
import ClusterLogging
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import WebSocketFrames
import Wire
import XCTest

@testable import Gateway

/// RFC 6455 as a table: a client's pipeline, wired as the gateway wires it (HTTP upgrade included),
/// gets client frames as bytes; each row says which messages reach the worker, which frames the
/// gateway answers with (pongs, the close and its code) and whether the connection ends.
final class ClientWebSocketPipelineTests: XCTestCase {
    private static let maxMessageSize = 4 << 20

    // MARK: The table

    private struct Row {
        let name: String
        /// The bytes the client sends, one read each.
        let reads: [[UInt8]]
        let expected: Outcome

        init(_ name: String, _ frames: [UInt8]..., expect expected: Outcome) {
            self.init(name, reads: [frames.flatMap { $0 }], expect: expected)
        }

        init(_ name: String, reads: [[UInt8]], expect expected: Outcome) {
            self.name = name
            self.reads = reads
            self.expected = expected
        }
    }

    private static var rows: [Row] {
        let fourMiB = [UInt8](repeating: UInt8(ascii: "a"), count: maxMessageSize)
        let kosme = Array("κόσμε".utf8)
        var table: [Row] = [
            // Messages that reach the worker.
            Row("text message", text("Hello"), expect: .open(messages: [.text("Hello")])),
            Row("binary message", binary([0, 0xff, 0x80]), expect: .open(messages: [.binary([0, 0xff, 0x80])])),
            Row("empty text message", text(""), expect: .open(messages: [.text("")])),
            Row("200-byte message (16-bit length)", binary(bytes(200)), expect: .open(messages: [.binary(bytes(200))])),
            Row("70,000-byte message (64-bit length)", binary(bytes(70_000)), expect: .open(messages: [.binary(bytes(70_000))])),
            Row("two messages in one read", text("a"), text("b"), expect: .open(messages: [.text("a"), .text("b")])),
            Row(
                "a frame split across one-byte reads",
                reads: text("split").map { [$0] },
                expect: .open(messages: [.text("split")])
            ),
            Row(
                "a 70,000-byte message in 1,000-byte reads",
                reads: chunked(binary(bytes(70_000)), size: 1_000),
                expect: .open(messages: [.binary(bytes(70_000))])
            ),
            Row(
                "frames cut inside their headers",
                reads: chunked(text("a") + frame(.binary, bytes(300)) + ping("c") + text("d"), size: 3),
                expect: .open(messages: [.text("a"), .binary(bytes(300)), .text("d")], replies: [.pong(Array("c".utf8))])
            ),
            Row(
                "a message in three fragments",
                frame(.text, "Hel", fin: false),
                frame(.continuation, "lo ", fin: false),
                frame(.continuation, "world"),
                expect: .open(messages: [.text("Hello world")])
            ),
            Row(
                "three empty fragments",
                frame(.text, "", fin: false),
                frame(.continuation, "", fin: false),
                frame(.continuation, ""),
                expect: .open(messages: [.text("")])
            ),
            Row(
                "empty fragments around data",
                frame(.binary, [], fin: false),
                frame(.continuation, [1, 2], fin: false),
                frame(.continuation, []),
                expect: .open(messages: [.binary([1, 2])])
            ),
            Row(
                "a code point split across fragments",
                frame(.text, Array(kosme[..<3]), fin: false),
                frame(.continuation, Array(kosme[3...])),
                expect: .open(messages: [.text("κόσμε")])
            ),
            Row(
                "4 MiB message in 64-byte fragments (the size limit)",
                reads: chunked(fragments(.text, fourMiB, size: 64), size: 65_536),
                expect: .open(messages: [.text(String(decoding: fourMiB, as: UTF8.self))])
            ),
            // Control frames.
            Row("ping answered with its payload", ping("abc"), expect: .open(replies: [.pong(Array("abc".utf8))])),
            Row("empty ping answered", ping(""), expect: .open(replies: [.pong([])])),
            Row("125-byte ping answered", frame(.ping, bytes(125)), expect: .open(replies: [.pong(bytes(125))])),
            Row("unsolicited pong ignored", frame(.pong, "x"), expect: .open()),
            Row(
                "pings between fragments answered",
                frame(.text, "Hel", fin: false),
                ping("1"),
                frame(.continuation, "lo", fin: false),
                ping("2"),
                frame(.continuation, "!"),
                expect: .open(messages: [.text("Hello!")], replies: [.pong(Array("1".utf8)), .pong(Array("2".utf8))])
            ),
            Row("close 1000 echoed", close(1000), expect: .closed(1000)),
            Row("close with a reason echoed with its code", close(1001, reason: "bye"), expect: .closed(1001)),
            Row("empty close echoed empty", frame(.close, []), expect: .closed(nil)),
            Row("input after a close ignored", close(1000), text("late"), expect: .closed(1000)),
            Row(
                "close in the middle of a fragmented message",
                frame(.text, "Hel", fin: false),
                close(1000),
                expect: .closed(1000)
            ),
            // Protocol errors: 1002.
            Row("reserved bit 1", frame(.text, "x", rsv: 0x40), expect: .closed(1002)),
            Row("reserved bit 2", frame(.text, "x", rsv: 0x20), expect: .closed(1002)),
            Row("reserved bit 3", frame(.text, "x", rsv: 0x10), expect: .closed(1002)),
            Row("all reserved bits on a ping", frame(.ping, "x", rsv: 0x70), expect: .closed(1002)),
            Row("a message, then a reserved bit", text("ok"), frame(.text, "x", rsv: 0x40), expect: .closed(1002, messages: [.text("ok")])),
            Row("unmasked text frame", frame(.text, "x", masked: false), expect: .closed(1002)),
            Row("unmasked ping", frame(.ping, "x", masked: false), expect: .closed(1002)),
            Row("close payload of 1 byte", frame(.close, [3]), expect: .closed(1002)),
            Row("126-byte ping", frame(.ping, bytes(126)), expect: .closed(1002)),
            Row("close of 126 bytes", close(1000, reason: String(repeating: "r", count: 124)), expect: .closed(1002)),
            Row("fragmented ping", frame(.ping, "x", fin: false), expect: .closed(1002)),
            Row("fragmented close", frame(.close, [3, 0xe8], fin: false), expect: .closed(1002)),
            Row("continuation without a start", frame(.continuation, "x"), expect: .closed(1002)),
            Row("final continuation without a start", frame(.continuation, "x", fin: false), expect: .closed(1002)),
            Row(
                "new text frame inside a fragmented message",
                frame(.text, "a", fin: false),
                text("b"),
                expect: .closed(1002)
            ),
            Row(
                "new binary fragment inside a fragmented message",
                frame(.binary, [1], fin: false),
                frame(.binary, [2], fin: false),
                expect: .closed(1002)
            ),
            Row(
                "64-bit length with its top bit set",
                [0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4],
                expect: .closed(1002)
            ),
            // Invalid UTF-8: 1007.
            Row("text that is not UTF-8", text([0x48, 0xff, 0x49]), expect: .closed(1007)),
            Row("text ending inside a code point", text(Array(kosme[..<3])), expect: .closed(1007)),
            Row("overlong encoding", text([0xc0, 0xaf]), expect: .closed(1007)),
            Row("UTF-16 surrogate", text([0xed, 0xa0, 0x80]), expect: .closed(1007)),
            Row("code point above U+10FFFF", text([0xf4, 0x90, 0x80, 0x80]), expect: .closed(1007)),
            Row(
                "invalid UTF-8 split across fragments",
                frame(.text, [0xce], fin: false),
                frame(.continuation, [0x41]),
                expect: .closed(1007)
            ),
            Row(
                "invalid UTF-8 in a first fragment fails before the message ends",
                frame(.text, [0xce, 0xba, 0xff], fin: false),
                expect: .closed(1007)
            ),
            Row("close reason that is not UTF-8", close(1000, reason: [0xff, 0xfe]), expect: .closed(1007)),
            // Too big: 1009.
            Row("a frame over the limit", reads: chunked(binary(bytes(maxMessageSize + 1)), size: 65_536), expect: .closed(1009)),
            Row(
                "a declared length over the limit, before its payload",
                [0x82, 0xff, 0, 0, 0, 0, 0, 0x40, 0, 1, 1, 2, 3, 4],
                expect: .closed(1009)
            ),
            Row(
                "fragments adding up to more than the limit",
                reads: chunked(fragments(.binary, fourMiB + [1], size: 64), size: 65_536),
                expect: .closed(1009)
            ),
        ]
        for code in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
            table.append(Row("close \(code) echoed", close(UInt16(code)), expect: .closed(UInt16(code))))
        }
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            table.append(Row("invalid close code \(code)", close(UInt16(code)), expect: .closed(1002)))
        }
        for opcode in [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf] as [UInt8] {
            table.append(Row("reserved opcode \(opcode)", frame(Opcode(rawValue: opcode), "x"), expect: .closed(1002)))
        }
        return table
    }

    func testEveryRowOfTheTable() throws {
        var failures: [String] = []
        let rows = Self.rows
        for row in rows {
            let outcome = try ClientHarness(maxMessageSize: Self.maxMessageSize).run(row.reads)
            if outcome != row.expected {
                failures.append("\(row.name): expected \(row.expected), got \(outcome)")
            }
        }
        XCTAssert(failures.isEmpty, "\(failures.count) of \(rows.count) rows fail:\n" + failures.joined(separator: "\n"))
    }

    // MARK: Events and writes

    func testConnectEventsCarryTheHandshakeAndACloseEventFollowsTheEnd() throws {
        let harness = try ClientHarness(maxMessageSize: Self.maxMessageSize)
        let connect = harness.handshakeEvents
        XCTAssertEqual(connect.map(\.command), [.onConnect, .onWebSocketConnect])
        let info = try JSONDecoder().decode(WebSocketHandshakeInfo.self, from: Data(connect[1].body.readableBytesView))
        XCTAssertEqual(info.path, "/chat")
        XCTAssertEqual(info.query, "room=1")
        XCTAssertTrue(info.headers.contains { $0.name == "X-Token" && $0.value == "t" })

        try harness.client.writeInbound(ByteBuffer(bytes: Self.close(1000)))
        harness.loop.run()
        XCTAssertEqual(harness.linkEvents().map(\.command), [.onClose])
    }

    func testPingsGoUnansweredWhileTheClientDoesNotRead() throws {
        let harness = try ClientHarness(maxMessageSize: Self.maxMessageSize)
        harness.client.isWritable = false
        XCTAssertEqual(try harness.run([Self.ping("unread")]), .open())
        harness.client.isWritable = true
        XCTAssertEqual(try harness.run([Self.ping("read")]), .open(replies: [.pong(Array("read".utf8))]))
    }

    func testWritesBecomeFrames() throws {
        let harness = try ClientHarness(maxMessageSize: Self.maxMessageSize)
        let connection = try XCTUnwrap(harness.connection)
        connection.write(.init(bytes: ByteBuffer(string: "hi"), isBinary: false))
        connection.write(.init(bytes: ByteBuffer(bytes: Self.bytes(300)), isBinary: true))
        connection.write(.init(bytes: ByteBuffer(bytes: [0x8a, 0x00]), isBinary: false, isRaw: true))
        harness.loop.run()
        XCTAssertEqual(
            try harness.serverFrames(),
            [.message(opcode: 1, Array("hi".utf8)), .message(opcode: 2, Self.bytes(300)), .pong([])]
        )

        connection.close(code: .policyViolation, lastMessage: .init(bytes: ByteBuffer(string: "bye"), isBinary: false))
        harness.loop.run()
        XCTAssertEqual(try harness.serverFrames(), [.message(opcode: 1, Array("bye".utf8)), .close(1008)])
        XCTAssertFalse(harness.client.isActive)
    }

    func testABroadcastIsEncodedOnceForEveryClientOfTheLoop() throws {
        let harness = try ClientHarness(maxMessageSize: Self.maxMessageSize)
        let connection = try XCTUnwrap(harness.connection)
        let shared = SharedMessage(.init(bytes: ByteBuffer(string: "to all"), isBinary: false))
        connection.write(shared)
        connection.write(shared)
        harness.loop.run()
        var written: [ByteBuffer] = []
        while case .byteBuffer(let bytes)? = try harness.client.readOutbound(as: IOData.self) { written.append(bytes) }
        XCTAssertEqual(written.count, 2)
        XCTAssertEqual(written.first.map { Array($0.readableBytesView) }, [0x81, 6] + Array("to all".utf8))
        // Encoded once: the second write carries the very bytes of the first, not a copy.
        let addresses = written.map { $0.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } }
        XCTAssertEqual(addresses.first, addresses.last)
    }

    // MARK: Frames as a client sends them

    fileprivate struct Opcode: Sendable {
        let rawValue: UInt8
        static let continuation = Opcode(rawValue: 0)
        static let text = Opcode(rawValue: 1)
        static let binary = Opcode(rawValue: 2)
        static let close = Opcode(rawValue: 8)
        static let ping = Opcode(rawValue: 9)
        static let pong = Opcode(rawValue: 10)
    }

    /// A client frame; masked (with a key that differs per frame) unless told otherwise.
    fileprivate static func frame(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0, masked: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        payload.withUnsafeBufferPointer { appendFrame(to: &bytes, opcode, $0, fin: fin, rsv: rsv, masked: masked) }
        return bytes
    }

    private static func appendFrame(
        to bytes: inout [UInt8],
        _ opcode: Opcode,
        _ payload: UnsafeBufferPointer<UInt8>,
        fin: Bool = true,
        rsv: UInt8 = 0,
        masked: Bool = true
    ) {
        bytes.append((fin ? 0x80 : 0) | rsv | opcode.rawValue)
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch payload.count {
        case ..<126:
            bytes.append(maskBit | UInt8(payload.count))
        case ..<65_536:
            bytes += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        default:
            bytes.append(maskBit | 127)
            bytes += (0..<8).reversed().map { UInt8(truncatingIfNeeded: payload.count >> ($0 * 8)) }
        }
        guard masked else {
            bytes += payload
            return
        }
        let key: [UInt8] = [0x37, 0xfa, UInt8(truncatingIfNeeded: payload.count), 0x3d]
        bytes += key
        let start = bytes.count
        bytes += payload
        bytes.withUnsafeMutableBufferPointer { frame in
            for index in 0..<payload.count { frame[start + index] ^= key[index & 3] }
        }
    }

    fileprivate static func frame(_ opcode: Opcode, _ payload: String, fin: Bool = true, rsv: UInt8 = 0, masked: Bool = true) -> [UInt8] {
        frame(opcode, Array(payload.utf8), fin: fin, rsv: rsv, masked: masked)
    }

    private static func text(_ text: String) -> [UInt8] { frame(.text, text) }
    private static func text(_ bytes: [UInt8]) -> [UInt8] { frame(.text, bytes) }
    private static func binary(_ bytes: [UInt8]) -> [UInt8] { frame(.binary, bytes) }
    private static func ping(_ text: String) -> [UInt8] { frame(.ping, text) }

    private static func close(_ code: UInt16, reason: [UInt8] = []) -> [UInt8] {
        frame(.close, [UInt8(code >> 8), UInt8(code & 0xff)] + reason)
    }

    private static func close(_ code: UInt16, reason: String) -> [UInt8] {
        close(code, reason: Array(reason.utf8))
    }

    /// `payload` as one message of `size`-byte fragments.
    private static func fragments(_ opcode: Opcode, _ payload: [UInt8], size: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(payload.count + payload.count / size * 8 + 8)
        payload.withUnsafeBufferPointer { payload in
            for start in stride(from: 0, to: payload.count, by: size) {
                let end = min(start + size, payload.count)
                appendFrame(to: &bytes, start == 0 ? opcode : .continuation, UnsafeBufferPointer(rebasing: payload[start..<end]), fin: end == payload.count)
            }
        }
        return bytes
    }

    private static func chunked(_ bytes: [UInt8], size: Int) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
    }

    private static func bytes(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { bytes, initialized in
            for index in 0..<count { bytes[index] = UInt8(truncatingIfNeeded: index &* 31) }
            initialized = count
        }
    }
}

/// What a row's input led to.
private struct Outcome: Equatable, CustomStringConvertible {
    var messages: [Message] = []
    var replies: [ServerFrame] = []
    var isOpen: Bool
    /// An error that reached the end of the pipeline instead of being handled.
    var error: String?

    static func open(messages: [Message] = [], replies: [ServerFrame] = []) -> Outcome {
        Outcome(messages: messages, replies: replies, isOpen: true)
    }

    static func closed(_ code: UInt16?, messages: [Message] = []) -> Outcome {
        Outcome(messages: messages, replies: [.close(code)], isOpen: false)
    }

    var description: String {
        "\(isOpen ? "open" : "closed"), messages \(messages), replies \(replies)" + (error.map { ", error \($0)" } ?? "")
    }
}

/// A message as the worker got it.
private enum Message: Equatable, CustomStringConvertible {
    case text(String)
    case binary([UInt8])

    var description: String {
        switch self {
        case .text(let text): text.utf8.count > 40 ? "text(\(text.utf8.count) bytes)" : "text(\(text.debugDescription))"
        case .binary(let bytes): bytes.count > 16 ? "binary(\(bytes.count) bytes)" : "binary(\(bytes))"
        }
    }
}

/// A frame the gateway wrote to the client.
private enum ServerFrame: Equatable, CustomStringConvertible {
    case message(opcode: UInt8, [UInt8])
    case pong([UInt8])
    /// A close frame with its code, nil when it has none.
    case close(UInt16?)
    case other(firstByte: UInt8, [UInt8])

    var description: String {
        switch self {
        case .message(let opcode, let payload): "message(opcode \(opcode), \(payload.count) bytes)"
        case .pong(let payload): "pong(\(payload.count) bytes)"
        case .close(let code): "close(\(code.map(String.init) ?? "no code"))"
        case .other(let first, let payload): "frame(0x\(String(first, radix: 16)), \(payload.count) bytes)"
        }
    }
}

/// One client on an embedded channel, upgraded through the gateway's own upgrader, routed to one
/// worker link on an embedded channel whose frames are the events.
private final class ClientHarness {
    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let link: EmbeddedChannel
    private let directory: ClientDirectory
    private(set) var handshakeEvents: [GatewayFrame] = []
    private var pendingOutput = ByteBuffer()

    init(maxMessageSize: Int) throws {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let links = WorkerLinkTable(routing: .sticky)
        directory = ClientDirectory(
            lanes: EventLoopLanes(loop),
            counters: GatewayCounters(group: loop),
            heartbeats: nil,
            flushQueues: PerEventLoop(loop) { ClientFlushQueue(eventLoop: $0) },
            onSendBufferFull: .drop
        )
        link = EmbeddedChannel(loop: loop)
        try link.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        links.add(WorkerLink(id: 1, workerKey: "w1", channel: link, routable: true, maxBacklogBytes: 1 << 30, logger: logger))

        var configuration = GatewayConfiguration()
        configuration.maxMessageSize = maxMessageSize
        let admission = ClientAdmission(
            directory: directory,
            links: links,
            events: ClientEventFrames(lanAddress: GatewayAddress(ip: 0x7f00_0001, port: 2900), publicPort: 8282),
            limits: ClientEventRouter.Limits(maxWaitingEvents: 1000),
            peerLog: RateLimitedLog(logger: logger),
            loopBuffers: PerEventLoop(loop) { NIOLoopBoundBox.makeBoxSendingValue(ByteBufferPool(allocator: ByteBufferAllocator()), eventLoop: $0) }
        )
        client = EmbeddedChannel(loop: loop)
        try client.pipeline.syncOperations.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [ClientWebSocketUpgrader(configuration: configuration, admission: admission)], completionHandler: { _ in })
        )
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000)).wait()
        let request = [
            "GET /chat?room=1 HTTP/1.1", "Host: localhost", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13", "X-Token: t", "", "",
        ].joined(separator: "\r\n")
        try client.writeInbound(ByteBuffer(string: request))
        loop.run()
        try collectOutput()
        let response = pendingOutput.readString(length: pendingOutput.readableBytes) ?? ""
        guard response.hasPrefix("HTTP/1.1 101"), response.hasSuffix("\r\n\r\n") else {
            throw HarnessError.upgradeRefused(response)
        }
        handshakeEvents = linkEvents()
    }

    enum HarnessError: Error {
        case upgradeRefused(String)
        case unexpectedOutput
    }

    var connection: ClientConnection? {
        handshakeEvents.first.flatMap { directory.connection($0.connectionID) }
    }

    /// Feeds `reads` to the client's pipeline and reports what came of them.
    func run(_ reads: [[UInt8]]) throws -> Outcome {
        var error: String?
        for read in reads where client.isActive {
            do {
                try client.writeInbound(ByteBuffer(bytes: read))
            } catch let caught {
                error = "\(caught)"
            }
            loop.run()
        }
        let messages = linkEvents().compactMap { event -> Message? in
            guard event.command == .onMessage else { return nil }
            let bytes = Array(event.body.readableBytesView)
            return event.flags.contains(.binary) ? .binary(bytes) : .text(String(decoding: bytes, as: UTF8.self))
        }
        return Outcome(messages: messages, replies: try serverFrames(), isOpen: client.isActive, error: error)
    }

    /// The events written to the worker link since last asked.
    func linkEvents() -> [GatewayFrame] {
        var events: [GatewayFrame] = []
        while let event = try? link.readOutbound(as: GatewayFrame.self) { events.append(event) }
        return events
    }

    /// The frames written to the client since last asked.
    func serverFrames() throws -> [ServerFrame] {
        try collectOutput()
        var frames: [ServerFrame] = []
        while let frame = try nextServerFrame() { frames.append(frame) }
        return frames
    }

    private func collectOutput() throws {
        while let data = try client.readOutbound(as: IOData.self) {
            guard case .byteBuffer(var bytes) = data else { throw HarnessError.unexpectedOutput }
            pendingOutput.writeBuffer(&bytes)
        }
    }

    /// Parses one unmasked server frame off the collected output.
    private func nextServerFrame() throws -> ServerFrame? {
        var view = pendingOutput
        guard let first = view.readInteger(as: UInt8.self), let second = view.readInteger(as: UInt8.self) else { return nil }
        guard second & 0x80 == 0 else { throw HarnessError.unexpectedOutput }
        var length = Int(second & 0x7f)
        if length == 126 {
            guard let extended = view.readInteger(as: UInt16.self) else { return nil }
            length = Int(extended)
        } else if length == 127 {
            guard let extended = view.readInteger(as: UInt64.self) else { return nil }
            length = Int(extended)
        }
        guard let payload = view.readBytes(length: length) else { return nil }
        pendingOutput = view
        switch first {
        case 0x81, 0x82: return .message(opcode: first & 0x0f, payload)
        case 0x8a: return .pong(payload)
        case 0x88 where payload.isEmpty: return .close(nil)
        case 0x88 where payload.count >= 2: return .close(UInt16(payload[0]) << 8 | UInt16(payload[1]))
        default: return .other(firstByte: first, payload)
        }
    }
}
