import NIOCore
import NIOEmbedded
import Wire
import XCTest

final class TextLineDecoderTests: XCTestCase {
    private func channel(maximumLineLength: Int = TextLineDecoder.defaultMaximumLineLength) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TextLineDecoder(maximumLineLength: maximumLineLength)))
        return channel
    }

    /// Every line decoded so far, as strings.
    private func lines(_ channel: EmbeddedChannel) throws -> [String] {
        var lines: [String] = []
        while let line = try channel.readInbound(as: ByteBuffer.self) { lines.append(String(buffer: line)) }
        return lines
    }

    private func write(_ text: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    func testOneLine() throws {
        let channel = try channel()
        try write("hello\n", to: channel)
        XCTAssertEqual(try lines(channel), ["hello"])
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testLineSplitAcrossReads() throws {
        let channel = try channel()
        for piece in ["he", "l", "lo wor", "ld"] {
            try write(piece, to: channel)
            XCTAssertEqual(try lines(channel), [])
        }
        try write("\nnext", to: channel)
        XCTAssertEqual(try lines(channel), ["hello world"])
        try write("\n", to: channel)
        XCTAssertEqual(try lines(channel), ["next"])
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testSeveralLinesInOneRead() throws {
        let channel = try channel()
        try write("one\ntwo\nthree\nfour", to: channel)
        XCTAssertEqual(try lines(channel), ["one", "two", "three"])
        try write("\n", to: channel)
        XCTAssertEqual(try lines(channel), ["four"])
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testCRLFIsStrippedAndALoneCRIsKept() throws {
        let channel = try channel()
        try write("dos\r\nunix\nin\rside\r\n", to: channel)
        XCTAssertEqual(try lines(channel), ["dos", "unix", "in\rside"])
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testCRAndLFInSeparateReads() throws {
        let channel = try channel()
        try write("split\r", to: channel)
        XCTAssertEqual(try lines(channel), [])
        try write("\n", to: channel)
        XCTAssertEqual(try lines(channel), ["split"])
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testEmptyLinesAreSkipped() throws {
        let channel = try channel()
        try write("\n\r\na\n\n\r\nb\n\n", to: channel)
        XCTAssertEqual(try lines(channel), ["a", "b"])
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testUTF8LinesPass() throws {
        let channel = try channel()
        try write("grüße 👋\n", to: channel)
        XCTAssertEqual(try lines(channel), ["grüße 👋"])
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testLineOfExactlyTheMaximumPassesWithAndWithoutCR() throws {
        let channel = try channel(maximumLineLength: 8)
        try write("12345678\n12345678\r\n", to: channel)
        XCTAssertEqual(try lines(channel), ["12345678", "12345678"])
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testOverLongLineIsRejectedWhenItsNewlineArrives() throws {
        let channel = try channel(maximumLineLength: 8)
        XCTAssertThrowsError(try write("ok\n123456789\n", to: channel)) { error in
            XCTAssertEqual(error as? TextLineError, .lineTooLong(maximum: 8))
        }
        XCTAssertEqual(try lines(channel), ["ok"])
        XCTAssertEqual(TextLineError.lineTooLong(maximum: 8).errorLine, "ERROR line too long: max 8 bytes")
    }

    /// A peer that never sends a newline cannot make the decoder buffer more than the maximum.
    func testOverLongLineIsRejectedBeforeItsNewlineArrives() throws {
        let channel = try channel(maximumLineLength: 16)
        try write(String(repeating: "x", count: 10), to: channel)
        try write(String(repeating: "x", count: 7), to: channel)  // 17: may still be 16 bytes and a \r
        XCTAssertThrowsError(try write("x", to: channel)) { error in
            XCTAssertEqual(error as? TextLineError, .lineTooLong(maximum: 16))
        }
        // Further input is dropped, not buffered.
        XCTAssertThrowsError(try write("more\n", to: channel)) { error in
            guard case ByteToMessageDecoderError.dataReceivedInErrorState = error else {
                return XCTFail("unexpected \(error)")
            }
        }
        XCTAssertEqual(try lines(channel), [])
    }

    func testInvalidUTF8IsRejected() throws {
        for bad: [UInt8] in [[0xFF], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0x61, 0xE2, 0x82]] {
            let channel = try channel()
            XCTAssertThrowsError(try channel.writeInbound(ByteBuffer(bytes: Array("ok\n".utf8) + bad + [0x0A]))) { error in
                XCTAssertEqual(error as? TextLineError, .invalidUTF8, "\(bad)")
            }
            XCTAssertEqual(try lines(channel), ["ok"], "\(bad)")
        }
    }

    /// The end of the stream does not complete a line: a writer that died mid-line delivers nothing.
    func testPartialLastLineAtEOFIsDroppedAndReported() throws {
        let channel = try channel()
        try write("whole\nhalf", to: channel)
        XCTAssertEqual(try lines(channel), ["whole"])
        XCTAssertThrowsError(try channel.finish()) { error in
            XCTAssertEqual(error as? TextLineError, .unterminatedLastLine(bufferedBytes: 4))
        }
        XCTAssertEqual(try lines(channel), [])
    }

    func testEOFAfterACompleteLineIsClean() throws {
        let channel = try channel()
        try write("whole\n", to: channel)
        XCTAssertEqual(try lines(channel), ["whole"])
        XCTAssertTrue(try channel.finish().isClean)
    }
}
