import NIOCore
import NIOEmbedded
import Wire
import XCTest

final class GatewayFrameDecoderTests: XCTestCase {
    private typealias Support = WireTestSupport

    // MARK: - Round trips

    /// Encodes `frame` through a channel, decodes the bytes through another, and checks that the same frame comes out.
    private func assertRoundTrip(_ frame: GatewayFrame, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = try Support.encode(frame, file: file, line: line)
        XCTAssertEqual(bytes.readableBytes, frame.encodedLength, "encoded size", file: file, line: line)
        let channel = try Support.decodingChannel()
        try channel.writeInbound(bytes)
        let decoded = try channel.readInbound(as: GatewayFrame.self)
        XCTAssertEqual(decoded, frame, "\(frame.command)", file: file, line: line)
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self), file: file, line: line)
        XCTAssertTrue(try channel.finish().isClean, file: file, line: line)
    }

    func testRoundTripEveryCommandWithExtDataAndBody() throws {
        for command in GatewayCommand.allCases {
            try assertRoundTrip(Support.sampleFrame(command: command))
        }
    }

    func testRoundTripEveryCommandWithEmptyExtDataAndBody() throws {
        for command in GatewayCommand.allCases {
            let frame = GatewayFrame(
                command: command,
                localIP: 0x7F00_0001,
                localPort: 2900,
                clientIP: 0x0102_0304,
                clientPort: 40000,
                connectionID: 9,
                flags: .scalarBody,
                gatewayPort: 8282
            )
            XCTAssertEqual(frame.encodedLength, GatewayFrame.headerLength)
            try assertRoundTrip(frame)
        }
    }

    func testRoundTripEveryCommandWithEveryFieldAtItsMaximum() throws {
        for command in GatewayCommand.allCases {
            let frame = GatewayFrame(
                command: command,
                localIP: .max,
                localPort: .max,
                clientIP: .max,
                clientPort: .max,
                connectionID: .max,
                // Every bit but the acknowledgement trailer's, which the decoder takes off the frame.
                flags: GatewayFrame.Flags(rawValue: .max).subtracting(.acknowledgementTrailer),
                gatewayPort: .max,
                extData: Support.buffer([UInt8](repeating: 0xFF, count: 300)),
                body: Support.buffer([UInt8](repeating: 0xFF, count: 70_000))
            )
            try assertRoundTrip(frame)
        }
    }

    func testRoundTripWithEmptyExtDataAndNonEmptyBodyAndViceVersa() throws {
        var frame = Support.sampleFrame()
        frame.extData = ByteBuffer()
        try assertRoundTrip(frame)
        frame = Support.sampleFrame()
        frame.body = ByteBuffer()
        try assertRoundTrip(frame)
    }

    // MARK: - Byte-exact layout

    func testDecodesAHandBuiltFrameFieldByField() throws {
        let ext: [UInt8] = [0xE1, 0xE2, 0xE3]
        let body: [UInt8] = [0xB1, 0xB2]
        let bytes = Support.header(
            length: 33,
            command: 5,
            localIP: 0x0102_0304,
            localPort: 0x0506,
            clientIP: 0x0708_090A,
            clientPort: 0x0B0C,
            connectionID: 0x0D0E_0F10,
            flags: 0x11,
            gatewayPort: 0x1213,
            extLength: 3
        ) + ext + body
        XCTAssertEqual(bytes.count, 33)
        let channel = try Support.decodingChannel()
        try channel.writeInbound(Support.buffer(bytes))
        let frame = try XCTUnwrap(try channel.readInbound(as: GatewayFrame.self))
        XCTAssertEqual(frame.command, .sendToOne)
        XCTAssertEqual(frame.localIP, 0x0102_0304)
        XCTAssertEqual(frame.localPort, 0x0506)
        XCTAssertEqual(frame.clientIP, 0x0708_090A)
        XCTAssertEqual(frame.clientPort, 0x0B0C)
        XCTAssertEqual(frame.connectionID, 0x0D0E_0F10)
        XCTAssertEqual(frame.flags.rawValue, 0x11)
        XCTAssertEqual(frame.gatewayPort, 0x1213)
        XCTAssertEqual(Support.bytes(frame.extData), ext)
        XCTAssertEqual(Support.bytes(frame.body), body)
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testHeaderOnlyFrameOfExactly28BytesDecodes() throws {
        let channel = try Support.decodingChannel()
        try channel.writeInbound(Support.buffer(Support.header(length: 28, command: 201)))
        let frame = try XCTUnwrap(try channel.readInbound(as: GatewayFrame.self))
        XCTAssertEqual(frame, GatewayFrame(command: .ping))
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testExtDataFillingTheWholeFrameLeavesAnEmptyBody() throws {
        let channel = try Support.decodingChannel()
        try channel.writeInbound(Support.buffer(Support.header(length: 30, command: 9, extLength: 2) + [0x41, 0x42]))
        let frame = try XCTUnwrap(try channel.readInbound(as: GatewayFrame.self))
        XCTAssertEqual(Support.bytes(frame.extData), [0x41, 0x42])
        XCTAssertEqual(frame.body.readableBytes, 0)
        XCTAssertTrue(try channel.finish().isClean)
    }

    // MARK: - Truncated and split input

    func testFewerThanFourBytesEmitNothing() throws {
        let channel = try Support.decodingChannel()
        try channel.writeInbound(Support.buffer([0x00, 0x00, 0x00]))
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self))
        XCTAssertThrowsError(try channel.finish()) { error in
            XCTAssertEqual(error as? GatewayFrameError, .truncated(bufferedBytes: 3))
        }
    }

    func testHeaderOnlyPrefixEmitsNothingUntilTheRestArrives() throws {
        let frame = Support.sampleFrame()
        var bytes = try Support.encode(frame)
        let channel = try Support.decodingChannel()
        try channel.writeInbound(bytes.readSlice(length: GatewayFrame.headerLength)!)
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self))
        try channel.writeInbound(bytes)
        XCTAssertEqual(try channel.readInbound(as: GatewayFrame.self), frame)
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testFrameMissingItsLastByteWaitsWithoutErrorThenCompletes() throws {
        let frame = Support.sampleFrame(command: .onMessage)
        var bytes = try Support.encode(frame)
        let channel = try Support.decodingChannel()
        XCTAssertNoThrow(try channel.writeInbound(bytes.readSlice(length: bytes.readableBytes - 1)!))
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self))
        XCTAssertNoThrow(try channel.throwIfErrorCaught())
        XCTAssertEqual(bytes.readableBytes, 1)
        try channel.writeInbound(bytes)
        XCTAssertEqual(try channel.readInbound(as: GatewayFrame.self), frame)
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self))
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testFrameFedOneByteAtATime() throws {
        let frame = Support.sampleFrame(command: .sendToGroup)
        let bytes = Support.bytes(try Support.encode(frame))
        let channel = try Support.decodingChannel()
        for (index, byte) in bytes.enumerated() {
            try channel.writeInbound(Support.buffer([byte]))
            if index < bytes.count - 1 {
                XCTAssertNil(try channel.readInbound(as: GatewayFrame.self), "emitted after \(index + 1) bytes")
            }
        }
        XCTAssertEqual(try channel.readInbound(as: GatewayFrame.self), frame)
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self))
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testTwoFramesAndHalfOfAThirdInOneWrite() throws {
        let first = Support.sampleFrame(command: .onConnect)
        var second = Support.sampleFrame(command: .onMessage)
        second.connectionID = 2
        second.extData = ByteBuffer()
        var third = Support.sampleFrame(command: .onClose)
        third.connectionID = 3
        third.body = Support.buffer([UInt8](repeating: 0x5A, count: 100))

        var thirdBytes = try Support.encode(third)
        var write = try Support.encode(first)
        var secondBytes = try Support.encode(second)
        write.writeBuffer(&secondBytes)
        var thirdHead = thirdBytes.readSlice(length: thirdBytes.readableBytes / 2)!
        write.writeBuffer(&thirdHead)

        let channel = try Support.decodingChannel()
        try channel.writeInbound(write)
        XCTAssertEqual(try channel.readInbound(as: GatewayFrame.self), first)
        XCTAssertEqual(try channel.readInbound(as: GatewayFrame.self), second)
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self))

        try channel.writeInbound(thirdBytes)
        XCTAssertEqual(try channel.readInbound(as: GatewayFrame.self), third)
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self))
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testManyFramesInOneWriteComeOutInOrder() throws {
        var write = ByteBuffer()
        var frames: [GatewayFrame] = []
        for (index, command) in GatewayCommand.allCases.enumerated() {
            var frame = Support.sampleFrame(command: command)
            frame.connectionID = UInt32(index)
            frame.body = Support.buffer("message \(index)")
            frames.append(frame)
            write.writeGatewayFrame(frame)
        }
        let channel = try Support.decodingChannel()
        try channel.writeInbound(write)
        for frame in frames {
            XCTAssertEqual(try channel.readInbound(as: GatewayFrame.self), frame)
        }
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self))
        XCTAssertTrue(try channel.finish().isClean)
    }

    // MARK: - Bad lengths

    private func assertInboundError(
        _ bytes: [UInt8],
        maximumFrameLength: Int = GatewayFrameDecoder.defaultMaximumFrameLength,
        _ expected: GatewayFrameError,
        file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let channel = try Support.decodingChannel(maximumFrameLength: maximumFrameLength)
        XCTAssertThrowsError(try channel.writeInbound(Support.buffer(bytes)), file: file, line: line) { error in
            XCTAssertEqual(error as? GatewayFrameError, expected, file: file, line: line)
        }
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self), file: file, line: line)
        _ = try? channel.finish()
    }

    func testLengthBelowHeaderIsAnErrorAsSoonAsTheLengthIsIn() throws {
        for length: UInt32 in [0, 1, 4, 27] {
            try assertInboundError([0, 0, 0, UInt8(length)], .lengthBelowHeader(length))
        }
    }

    func testLengthBelowHeaderIsAnErrorEvenWithAFullHeader() throws {
        try assertInboundError(Support.header(length: 27, command: 1), .lengthBelowHeader(27))
    }

    func testLengthAboveMaximumIsAnErrorAsSoonAsTheLengthIsIn() throws {
        try assertInboundError([0, 0, 0x04, 0x01], maximumFrameLength: 1024, .lengthAboveMaximum(length: 1025, maximum: 1024))
        try assertInboundError(
            [0xFF, 0xFF, 0xFF, 0xFF],
            .lengthAboveMaximum(length: .max, maximum: GatewayFrameDecoder.defaultMaximumFrameLength)
        )
        try assertInboundError(
            [0x01, 0x00, 0x00, 0x01],
            .lengthAboveMaximum(length: 16 * 1024 * 1024 + 1, maximum: 16 * 1024 * 1024)
        )
    }

    func testLengthAtMaximumIsAccepted() throws {
        let maximum = 64
        let frame = GatewayFrame(command: .sendToAll, body: Support.buffer([UInt8](repeating: 7, count: maximum - 28)))
        let channel = try Support.decodingChannel(maximumFrameLength: maximum)
        try channel.writeInbound(try Support.encode(frame))
        XCTAssertEqual(try channel.readInbound(as: GatewayFrame.self), frame)
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testOversizedLengthDoesNotWaitForTheBody() throws {
        // A full header claiming a 1 MiB frame against a 1 KiB limit: the error must come now, with no body sent.
        let channel = try Support.decodingChannel(maximumFrameLength: 1024)
        let header = Support.header(length: 1 << 20, command: 3)
        XCTAssertThrowsError(try channel.writeInbound(Support.buffer(Array(header.prefix(4))))) { error in
            XCTAssertEqual(error as? GatewayFrameError, .lengthAboveMaximum(length: 1 << 20, maximum: 1024))
        }
        // The decoder is now in its error state: more bytes are refused, not buffered.
        XCTAssertThrowsError(try channel.writeInbound(Support.buffer([UInt8](repeating: 0, count: 4096)))) { error in
            guard case ByteToMessageDecoderError.dataReceivedInErrorState(let original, _)? = error as? ByteToMessageDecoderError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(original as? GatewayFrameError, .lengthAboveMaximum(length: 1 << 20, maximum: 1024))
        }
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self))
        _ = try? channel.finish()
    }

    func testStaticDecodeRejectsBadLengthsFromTheFirstFourBytesWithoutConsuming() throws {
        var oversized = Support.buffer([0x00, 0x10, 0x00, 0x00])
        XCTAssertThrowsError(try GatewayFrameDecoder.decodeFrame(from: &oversized, maximumFrameLength: 4096)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .lengthAboveMaximum(length: 0x0010_0000, maximum: 4096))
        }
        XCTAssertEqual(oversized.readerIndex, 0)

        var undersized = Support.buffer([0x00, 0x00, 0x00, 0x10])
        XCTAssertThrowsError(try GatewayFrameDecoder.decodeFrame(from: &undersized, maximumFrameLength: 4096)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .lengthBelowHeader(16))
        }

        var incomplete = Support.buffer(Support.header(length: 40, command: 3))
        XCTAssertNil(try GatewayFrameDecoder.decodeFrame(from: &incomplete, maximumFrameLength: 4096))
        XCTAssertEqual(incomplete.readerIndex, 0)
        XCTAssertEqual(incomplete.readableBytes, 28)
    }

    func testExtLengthLargerThanTheFrameIsAnErrorBeforeTheBodyArrives() throws {
        // 28 + 5 bytes of frame, ext claims 6: reported once the header is in, without the 5 remaining bytes.
        try assertInboundError(
            Support.header(length: 33, command: 9, extLength: 6),
            .extLengthOutOfFrame(extLength: 6, frameLength: 33)
        )
        try assertInboundError(
            Support.header(length: 28, command: 9, extLength: 1),
            .extLengthOutOfFrame(extLength: 1, frameLength: 28)
        )
        try assertInboundError(
            Support.header(length: 100, command: 9, extLength: .max),
            .extLengthOutOfFrame(extLength: .max, frameLength: 100)
        )
    }

    func testUnknownCommandBytesAreErrors() throws {
        let known = Set(GatewayCommand.allCases.map(\.rawValue))
        var unknownCount = 0
        for byte in UInt8.min...UInt8.max where !known.contains(byte) {
            unknownCount += 1
            try assertInboundError(Support.header(length: 28, command: byte), .unknownCommand(byte))
        }
        XCTAssertEqual(unknownCount, 256 - GatewayCommand.allCases.count)
    }

    func testEveryKnownCommandByteDecodesToItsCase() throws {
        for command in GatewayCommand.allCases {
            var buffer = Support.buffer(Support.header(length: 28, command: command.rawValue))
            let frame = try XCTUnwrap(try GatewayFrameDecoder.decodeFrame(from: &buffer, maximumFrameLength: 28))
            XCTAssertEqual(frame.command, command)
            XCTAssertEqual(buffer.readableBytes, 0)
        }
    }

    func testGatewayWorkerCommandNumbers() {
        // Pins the numbering: 1-27 and 200-205 are GatewayWorker's GatewayProtocol.php, so a renumbering
        // would break PHP peers; 210 and up are DataCentered's own.
        let expected: [GatewayCommand: UInt8] = [
            .onConnect: 1, .onMessage: 3, .onClose: 4, .sendToOne: 5, .sendToAll: 6, .kick: 7, .destroy: 8,
            .updateSession: 9, .getAllClientSessions: 10, .isOnline: 11, .bindUID: 12, .unbindUID: 13,
            .sendToUID: 14, .getClientIDByUID: 15, .batchGetClientIDByUID: 16, .joinGroup: 20, .leaveGroup: 21,
            .sendToGroup: 22, .getClientSessionsByGroup: 23, .getClientCountByGroup: 24, .select: 25,
            .getGroupIDList: 26, .ungroup: 27, .batchGetClientCountByGroup: 28, .workerConnect: 200, .ping: 201,
            .gatewayClientConnect: 202, .getSessionByClientID: 203, .setSession: 204, .onWebSocketConnect: 205,
            .handshakeResult: 210, .acknowledge: 211, .workerLeaving: 212, .leaveAccepted: 213, .queryResult: 214,
            .channelPublish: 215, .channelEvent: 216, .linkChallenge: 217, .linkProof: 218,
        ]
        XCTAssertEqual(expected.count, GatewayCommand.allCases.count)
        for command in GatewayCommand.allCases {
            XCTAssertEqual(command.rawValue, expected[command], "\(command)")
        }
    }

    func testAReceiverTakesEveryFrameAndNothingGoesDownThePipeline() throws {
        let receiver = RecordingReceiver(accepts: true)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(GatewayFrameDecoder(receiver: receiver)))
        let frames = [Support.sampleFrame(command: .sendToOne), Support.sampleFrame(command: .acknowledge)]
        var bytes = try Support.encode(frames[0])
        var second = try Support.encode(frames[1])
        bytes.writeBuffer(&second)
        try channel.writeInbound(bytes)
        XCTAssertEqual(receiver.frames, frames)
        XCTAssertNil(try channel.readInbound(as: GatewayFrame.self))
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testAFrameTheReceiverCannotTakeGoesDownThePipeline() throws {
        let receiver = RecordingReceiver(accepts: false)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(GatewayFrameDecoder(receiver: receiver)))
        let frame = Support.sampleFrame(command: .sendToOne)
        try channel.writeInbound(try Support.encode(frame))
        XCTAssertEqual(receiver.frames, [frame])
        XCTAssertEqual(try channel.readInbound(as: GatewayFrame.self), frame)
        XCTAssertTrue(try channel.finish().isClean)
    }
}

/// Records the frames a decoder hands it; `accepts` false stands for a handler no longer in its pipeline.
private final class RecordingReceiver: GatewayFrameReceiver {
    let accepts: Bool
    var frames: [GatewayFrame] = []

    init(accepts: Bool) { self.accepts = accepts }

    func receive(_ frame: GatewayFrame) -> Bool {
        frames.append(frame)
        return accepts
    }
}
