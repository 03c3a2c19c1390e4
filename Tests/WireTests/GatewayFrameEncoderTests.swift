import NIOCore
import NIOEmbedded
import Wire
import XCTest

final class GatewayFrameEncoderTests: XCTestCase {
    private typealias Support = WireTestSupport

    func testHeaderLayoutIsByteExact() throws {
        let frame = GatewayFrame(
            command: .sendToOne,
            localIP: 0x0102_0304,
            localPort: 0x0506,
            clientIP: 0x0708_090A,
            clientPort: 0x0B0C,
            connectionID: 0x0D0E_0F10,
            flags: GatewayFrame.Flags(rawValue: 0x11),
            gatewayPort: 0x1213,
            extData: Support.buffer([0xE1, 0xE2, 0xE3]),
            body: Support.buffer([0xB1, 0xB2])
        )
        // Written out literally, so that neither the encoder nor the test helper can hide a field-order bug.
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x21,  // length = 28 + 3 + 2 = 33
            0x05,  // command
            0x01, 0x02, 0x03, 0x04,  // localIP
            0x05, 0x06,  // localPort
            0x07, 0x08, 0x09, 0x0A,  // clientIP
            0x0B, 0x0C,  // clientPort
            0x0D, 0x0E, 0x0F, 0x10,  // connectionID
            0x11,  // flags
            0x12, 0x13,  // gatewayPort
            0x00, 0x00, 0x00, 0x03,  // extLength
            0xE1, 0xE2, 0xE3,  // ext data
            0xB1, 0xB2,  // body
        ]
        XCTAssertEqual(Support.bytes(try Support.encode(frame)), expected)
        // The independent header builder agrees with the literal.
        XCTAssertEqual(
            Support.header(
                length: 33, command: 5, localIP: 0x0102_0304, localPort: 0x0506, clientIP: 0x0708_090A,
                clientPort: 0x0B0C, connectionID: 0x0D0E_0F10, flags: 0x11, gatewayPort: 0x1213, extLength: 3
            ),
            Array(expected.prefix(28))
        )
    }

    func testHeaderOfAnEmptyFrame() throws {
        let bytes = Support.bytes(try Support.encode(GatewayFrame(command: .ping)))
        XCTAssertEqual(bytes, [0, 0, 0, 28, 201] + [UInt8](repeating: 0, count: 23))
    }

    func testEveryCommandWritesItsNumberAtOffsetFour() throws {
        for command in GatewayCommand.allCases {
            let bytes = Support.bytes(try Support.encode(Support.sampleFrame(command: command)))
            XCTAssertEqual(bytes[4], command.rawValue)
        }
    }

    func testLengthAndExtLengthFieldsCountTheWholeFrame() throws {
        let frame = GatewayFrame(
            command: .sendToGroup,
            extData: Support.buffer([UInt8](repeating: 1, count: 300)),
            body: Support.buffer([UInt8](repeating: 2, count: 70_000))
        )
        let buffer = try Support.encode(frame)
        XCTAssertEqual(buffer.readableBytes, 28 + 300 + 70_000)
        XCTAssertEqual(buffer.getInteger(at: 0, as: UInt32.self), UInt32(28 + 300 + 70_000))
        XCTAssertEqual(buffer.getInteger(at: 24, as: UInt32.self), 300)
        XCTAssertEqual(frame.encodedLength, 28 + 300 + 70_000)
    }

    func testOnlyTheReadableBytesOfExtDataAndBodyAreWritten() throws {
        var ext = Support.buffer([9, 9, 0xE1, 0xE2])
        ext.moveReaderIndex(forwardBy: 2)
        var body = Support.buffer([8, 0xB1])
        body.moveReaderIndex(forwardBy: 1)
        let frame = GatewayFrame(command: .onMessage, extData: ext, body: body)
        let bytes = Support.bytes(try Support.encode(frame))
        XCTAssertEqual(bytes.count, 31)
        XCTAssertEqual(bytes[3], 31)
        XCTAssertEqual(Array(bytes[24..<28]), [0, 0, 0, 2])
        XCTAssertEqual(Array(bytes[28...]), [0xE1, 0xE2, 0xB1])
    }

    func testWriteGatewayFrameReturnsTheBytesWritten() {
        var buffer = ByteBuffer()
        let frame = Support.sampleFrame()
        XCTAssertEqual(buffer.writeGatewayFrame(frame), frame.encodedLength)
        XCTAssertEqual(buffer.readableBytes, frame.encodedLength)
    }

    func testSeveralFramesAreWrittenInOrder() throws {
        let channel = try Support.encodingChannel()
        let frames = GatewayCommand.allCases.map { Support.sampleFrame(command: $0) }
        for frame in frames {
            try channel.writeOutbound(frame)
        }
        var all = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) {
            all.writeBuffer(&chunk)
        }
        for frame in frames {
            XCTAssertEqual(try GatewayFrameDecoder.decodeFrame(from: &all, maximumFrameLength: 1 << 20), frame)
        }
        XCTAssertEqual(all.readableBytes, 0)
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testFramesWrittenBetweenFlushesLeaveAsOneBuffer() throws {
        let channel = try Support.encodingChannel()
        let frames = (0..<5).map { Support.sampleFrame(command: $0.isMultiple(of: 2) ? .sendToOne : .acknowledge) }
        let written = frames.map { channel.write($0) }
        try assertFlushWritesOneBatch(channel, holding: frames)
        for write in written { XCTAssertNoThrow(try write.wait()) }
        try channel.writeOutbound(frames[0])
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes, frames[0].encodedLength, "the next flush starts a new batch")
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testARefusedFrameLeavesTheRestOfItsBatch() throws {
        let maximum = 64
        let channel = try Support.encodingChannel(maximumFrameLength: maximum)
        let small = GatewayFrame(command: .sendToOne, body: Support.buffer([1, 2, 3]))
        let tooLarge = GatewayFrame(command: .sendToOne, body: Support.buffer([UInt8](repeating: 0, count: maximum)))
        let first = channel.write(small)
        let refused = channel.write(tooLarge)
        let last = channel.write(small)
        channel.flush()
        XCTAssertThrowsError(try refused.wait())
        XCTAssertNoThrow(try first.wait())
        XCTAssertNoThrow(try last.wait())
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes, 2 * small.encodedLength)
        XCTAssertThrowsError(try channel.throwIfErrorCaught()) { error in
            XCTAssertEqual(error as? GatewayFrameError, .frameTooLarge(length: tooLarge.encodedLength, maximum: maximum))
        }
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testRefusesAFrameAboveItsMaximum() throws {
        let maximum = 64
        let channel = try Support.encodingChannel(maximumFrameLength: maximum)
        let tooLarge = GatewayFrame(
            command: .sendToAll,
            extData: Support.buffer([1]),
            body: Support.buffer([UInt8](repeating: 0, count: maximum - 28))
        )
        XCTAssertEqual(tooLarge.encodedLength, maximum + 1)
        XCTAssertThrowsError(try channel.writeOutbound(tooLarge)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .frameTooLarge(length: maximum + 1, maximum: maximum))
        }
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self), "nothing may be written for a refused frame")
        _ = try? channel.finish()
    }

    func testAcceptsAFrameExactlyAtItsMaximum() throws {
        let maximum = 64
        let channel = try Support.encodingChannel(maximumFrameLength: maximum)
        let frame = GatewayFrame(command: .sendToAll, body: Support.buffer([UInt8](repeating: 0, count: maximum - 28)))
        try channel.writeOutbound(frame)
        let bytes = try XCTUnwrap(try channel.readOutbound(as: ByteBuffer.self))
        XCTAssertEqual(bytes.readableBytes, maximum)
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testDefaultMaximumMatchesTheDecoder() {
        XCTAssertEqual(GatewayFrameEncoder().maximumFrameLength, GatewayFrameDecoder.defaultMaximumFrameLength)
        XCTAssertEqual(GatewayFrameDecoder().maximumFrameLength, 16 * 1024 * 1024)
    }

    func testFrameTooLargeWithTheDefaultMaximum() throws {
        let channel = try Support.encodingChannel()
        let maximum = GatewayFrameDecoder.defaultMaximumFrameLength
        let frame = GatewayFrame(command: .sendToAll, body: Support.buffer([UInt8](repeating: 0, count: maximum)))
        XCTAssertThrowsError(try channel.writeOutbound(frame)) { error in
            XCTAssertEqual(error as? GatewayFrameError, .frameTooLarge(length: maximum + 28, maximum: maximum))
        }
        _ = try? channel.finish()
    }

    func testEnqueuedFramesJoinTheWrittenOnesInOrderInOneBatch() throws {
        let encoder = GatewayFrameEncoder()
        let channel = EmbeddedChannel(handler: encoder)
        let frames = (0..<4).map { Support.sampleFrame(command: $0.isMultiple(of: 2) ? .sendToOne : .acknowledge) }
        channel.write(frames[0], promise: nil)
        encoder.enqueue(frames[1])
        channel.write(frames[2], promise: nil)
        encoder.enqueue(frames[3])
        try assertFlushWritesOneBatch(channel, holding: frames)
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testAnEnqueuedFrameAboveTheMaximumIsRefusedAndTheLinkKeepsGoing() throws {
        let maximum = 64
        let encoder = GatewayFrameEncoder(maximumFrameLength: maximum)
        let channel = EmbeddedChannel(handler: encoder)
        let small = GatewayFrame(command: .sendToOne, body: Support.buffer([1, 2, 3]))
        encoder.enqueue(GatewayFrame(command: .sendToOne, body: Support.buffer([UInt8](repeating: 0, count: maximum))))
        encoder.enqueue(small)
        channel.flush()
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes, small.encodedLength)
        XCTAssertThrowsError(try channel.throwIfErrorCaught()) { error in
            XCTAssertEqual(error as? GatewayFrameError, .frameTooLarge(length: maximum + 28, maximum: maximum))
        }
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testBatchesAfterTheFirstStillCarryExactlyTheirOwnFrames() throws {
        // The batch buffer is reused once the channel has let go of it: a later batch must not carry
        // bytes of an earlier one, whether the earlier one is still held or not.
        let encoder = GatewayFrameEncoder()
        let channel = EmbeddedChannel(handler: encoder)
        let large = GatewayFrame(command: .sendToAll, body: Support.buffer([UInt8](repeating: 7, count: 1000)))
        let small = GatewayFrame(command: .sendToOne, body: Support.buffer([1]))
        encoder.enqueue(large)
        channel.flush()
        var held = try XCTUnwrap(try channel.readOutbound(as: ByteBuffer.self))
        encoder.enqueue(small)
        channel.flush()
        var second = try XCTUnwrap(try channel.readOutbound(as: ByteBuffer.self))
        XCTAssertEqual(try GatewayFrameDecoder.decodeFrame(from: &second, maximumFrameLength: 1 << 20), small)
        XCTAssertEqual(second.readableBytes, 0)
        XCTAssertEqual(try GatewayFrameDecoder.decodeFrame(from: &held, maximumFrameLength: 1 << 20), large, "an earlier batch still held is left intact")
        for _ in 0..<3 {
            encoder.enqueue(small)
            encoder.enqueue(large)
            channel.flush()
            var batch = try XCTUnwrap(try channel.readOutbound(as: ByteBuffer.self))
            XCTAssertEqual(try GatewayFrameDecoder.decodeFrame(from: &batch, maximumFrameLength: 1 << 20), small)
            XCTAssertEqual(try GatewayFrameDecoder.decodeFrame(from: &batch, maximumFrameLength: 1 << 20), large)
            XCTAssertEqual(batch.readableBytes, 0)
        }
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testAFrameEnqueuedAfterTheEncoderLeftThePipelineIsDropped() throws {
        let encoder = GatewayFrameEncoder()
        let channel = EmbeddedChannel(handler: encoder)
        XCTAssertTrue(try channel.finish().isClean)
        encoder.enqueue(Support.sampleFrame())
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self))
    }

    /// Flushes `channel` and checks that `frames`, and nothing else, leave in one buffer, not before.
    private func assertFlushWritesOneBatch(_ channel: EmbeddedChannel, holding frames: [GatewayFrame], line: UInt = #line) throws {
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self), "nothing leaves before the flush", line: line)
        channel.flush()
        var batch = try XCTUnwrap(try channel.readOutbound(as: ByteBuffer.self), line: line)
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self), "one buffer for the whole batch", line: line)
        for frame in frames {
            XCTAssertEqual(try GatewayFrameDecoder.decodeFrame(from: &batch, maximumFrameLength: 1 << 20), frame, line: line)
        }
        XCTAssertEqual(batch.readableBytes, 0, line: line)
    }
}
