import ClusterTesting
import Foundation
import NIOCore
import NIOPosix
import Wire
import XCTest

/// The internal port: a secret key of at least 16 bytes everywhere, proven by challenge–response so a
/// captured handshake cannot be replayed; bounded hellos, deadlines and unauthenticated links.
final class LinkSecurityTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testNoProcessStartsWithoutAKeyOfSixteenBytes() throws {
        cluster = try TestCluster()
        for key in ["", "short-key"] {
            for role in [["gateway", "--listen", "127.0.0.1:0", "--lan-port", "\(freeTCPPort())"], ["worker"], ["push", "count"]] {
                let outcome = try CommandRunner.run(
                    TestCluster.binaryPath,
                    role + ["--memcached", cluster.memcached.address],
                    environment: ["DATACENTERED_SECRET_KEY": key],
                    timeout: .seconds(20)
                )
                XCTAssertNotEqual(outcome.status, 0, "\(role) started with key '\(key)'")
                let expected = key.isEmpty ? "no secret key" : "at least 16 are needed"
                XCTAssertTrue(outcome.standardError.contains(expected), "\(role): \(outcome.output)")
                if !key.isEmpty { XCTAssertFalse(outcome.output.contains(key), "the key appears in the output of \(role)") }
            }
        }
    }

    func testACapturedHandshakeReplayedIsRefused() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        let key = try LinkKey(secret: cluster.secretKey)

        // A genuine handshake, every byte the linking side sent captured.
        let link = try await ScriptedLink.connect(port: gateway.lanPort)
        let hello = LinkHello(workerKey: "recorded:1", nonce: LinkKey.makeNonce())
        var captured = try await link.send(.handshake(.gatewayClientConnect, hello))
        let challengeFrame = try await link.receive()
        let challenge = try XCTUnwrap(challengeFrame.handshakeMessage(as: LinkChallenge.self))
        captured += try await link.send(.handshake(.linkProof, LinkProof(proof: key.proof(of: .linking, hello: hello, gatewayNonce: challenge.nonce))))
        let acceptedFrame = try await link.receive()
        let accepted = try XCTUnwrap(acceptedFrame.handshakeMessage(as: HandshakeResult.self))
        XCTAssertTrue(accepted.accepted)
        XCTAssertTrue(key.verify(try XCTUnwrap(accepted.proof), of: .gateway, hello: hello, gatewayNonce: challenge.nonce))
        await link.close()

        // The same bytes again, as an eavesdropper would send them: the gateway's nonce is new.
        let replay = try await RawTCPClient.exchange(port: gateway.lanPort, bytes: captured, timeout: .seconds(10))
        XCTAssertTrue(replay.closedByPeer)
        var received = ByteBuffer(bytes: replay.received)
        var frames: [GatewayFrame] = []
        while let frame = try GatewayFrameDecoder.decodeFrame(from: &received, maximumFrameLength: 1 << 20) { frames.append(frame) }
        XCTAssertEqual(frames.map(\.command), [.linkChallenge, .handshakeResult])
        XCTAssertEqual(frames.last?.handshakeMessage(as: HandshakeResult.self)?.accepted, false)
        try gateway.process.waitForOutput(containing: "refused worker link: wrong secret key", timeout: .seconds(5))
        XCTAssertFalse(String(decoding: captured, as: UTF8.self).contains(cluster.secretKey), "the key crossed the wire")
    }

    func testAWorkerWithAnotherKeyNeitherLinksNorLearnsAnything() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        let intruder = try cluster.startWorker(name: "intruder", secretKey: "another-key-of-enough-length")
        try intruder.waitForOutput(containing: "gateway refused the link: wrong secret key", timeout: .seconds(10))
        try gateway.process.waitForOutput(containing: "refused worker link: wrong secret key", timeout: .seconds(5))
        XCTAssertFalse(intruder.output.contains("linked to gateway"))
    }

    func testAnOversizedHelloIsClosedBeforeItIsBuffered() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        // A frame header announcing 1 MiB (within the link maximum), then more than 4 KiB of it.
        var bytes = ByteBuffer()
        bytes.writeInteger(UInt32(1 << 20))
        bytes.writeInteger(GatewayCommand.workerConnect.rawValue)
        bytes.writeRepeatingByte(0, count: 23 + 8192)
        do {
            let outcome = try await RawTCPClient.exchange(port: gateway.lanPort, bytes: Array(bytes.readableBytesView), timeout: .seconds(10))
            XCTAssertTrue(outcome.closedByPeer)
        } catch let error as IOError where error.errnoCode == ECONNRESET {
            // Closed with bytes still unread: the kernel answers with a reset, which is a close too.
        }
        try gateway.process.waitForOutput(containing: "more than 4096 bytes sent before proving the key", timeout: .seconds(5))
    }

    func testUnauthenticatedLinksAreBoundedAndTheRestRefusedAndCounted() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(extraArguments: ["--max-unauthenticated-links", "4", "--link-hello-timeout", "30", "--stats-interval", "0.2"])
        let worker = try cluster.startWorker()
        try cluster.waitUntilLinked(worker, to: gateway)
        // Four silent links take every place; the next ones are closed at once.
        var silent: [ScriptedLink] = []
        for _ in 0..<4 { silent.append(try await ScriptedLink.connect(port: gateway.lanPort)) }
        try gateway.process.waitForOutput(containing: "links_refused=0 ", timeout: .seconds(5))
        for _ in 0..<6 {
            let closed = try await Self.isClosedAtOnce(port: gateway.lanPort)
            XCTAssertTrue(closed, "a link past the limit is closed at once")
        }
        try gateway.process.waitForOutput(containing: "links_refused=6 ", timeout: .seconds(5))
        try gateway.process.waitForOutput(containing: "4 links are already waiting to prove the key", timeout: .seconds(5))
        // The linked worker still serves clients meanwhile.
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        try await client.send("still served")
        let reply = try await client.receiveText()
        XCTAssertEqual(reply, "still served")
        // Places come back when the silent links go.
        for link in silent { await link.close() }
        let late = try await ScriptedLink.connect(port: gateway.lanPort)
        _ = try await late.send(.handshake(.gatewayClientConnect, LinkHello(workerKey: "late:1", nonce: LinkKey.makeNonce())))
        let lateChallenge = try await late.receive()
        XCTAssertEqual(lateChallenge.command, .linkChallenge)
        await late.close()
        await client.close()
    }

    /// True when a new connection to `port` is closed by the other end within 5 s, before it sends anything.
    private static func isClosedAtOnce(port: Int) async throws -> Bool {
        do {
            return try await RawTCPClient.exchange(port: port, bytes: [0], timeout: .seconds(5)).closedByPeer
        } catch ChannelError.ioOnClosedChannel {
            return true
        } catch let error as IOError where [ECONNRESET, EPIPE].contains(error.errnoCode) {
            return true
        }
    }
}

/// A link to a gateway's internal port driven frame by frame, to play a handshake step by step.
/// Used by one test task at a time.
final class ScriptedLink: @unchecked Sendable {
    private let channel: Channel
    private var frames: AsyncStream<GatewayFrame>.AsyncIterator

    /// Passes each decoded frame to the link's stream; the stream ends with the connection.
    private final class FrameCollector: ChannelInboundHandler, Sendable {
        typealias InboundIn = GatewayFrame
        let sink: AsyncStream<GatewayFrame>.Continuation
        init(sink: AsyncStream<GatewayFrame>.Continuation) { self.sink = sink }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { sink.yield(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { sink.finish() }
        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }

    private init(channel: Channel, frames: AsyncStream<GatewayFrame>) {
        self.channel = channel
        self.frames = frames.makeAsyncIterator()
    }

    static func connect(port: Int) async throws -> ScriptedLink {
        let (frames, sink) = AsyncStream.makeStream(of: GatewayFrame.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(GatewayFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FrameCollector(sink: sink))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return ScriptedLink(channel: channel, frames: frames)
    }

    /// Sends `frame`; returns the bytes sent.
    func send(_ frame: GatewayFrame) async throws -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeGatewayFrame(frame)
        try await channel.writeAndFlush(buffer).get()
        return Array(buffer.readableBytesView)
    }

    /// The next frame from the gateway; the link is closed if none comes within 10 s.
    func receive() async throws -> GatewayFrame {
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        guard let frame = await frames.next() else { throw ChannelError.eof }
        return frame
    }

    func close() async {
        try? await channel.close()
    }
}
