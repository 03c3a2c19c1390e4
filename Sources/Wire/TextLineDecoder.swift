import NIOCore

/// Splits the byte stream of a text-port client into lines: one message per line, without its
/// `\n` and without a `\r` just before it.
///
/// * A line longer than `maximumLineLength` bytes (not counting `\r\n`) throws
///   ``TextLineError/lineTooLong(maximum:)`` as soon as that many bytes are buffered without a
///   newline, so a peer can never make the decoder hold more than the maximum plus one read.
/// * A line that is not valid UTF-8 throws ``TextLineError/invalidUTF8``.
/// * Empty lines (`\n` or `\r\n` alone) are skipped: they carry no message, and services that pad
///   their output or send keep-alive newlines must not wake a worker.
/// * At the end of the stream, bytes after the last newline are not a line: they are dropped and
///   reported with ``TextLineError/unterminatedLastLine(bufferedBytes:)``, so a writer that dies in
///   the middle of a line never delivers half a message.
///
/// After an error the pipeline's error handling sends the error line and closes the connection.
public struct TextLineDecoder: ByteToMessageDecoder {
    /// A line's bytes: valid UTF-8, no terminator, never empty.
    public typealias InboundOut = ByteBuffer

    /// The default maximum line length: 64 KiB.
    public static let defaultMaximumLineLength = 64 * 1024

    public let maximumLineLength: Int
    /// How many bytes at the front of the buffer are known to hold no newline, so each byte is
    /// scanned once however the line is split across reads.
    private var scanned = 0

    public init(maximumLineLength: Int = Self.defaultMaximumLineLength) {
        precondition(maximumLineLength > 0)
        self.maximumLineLength = maximumLineLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while let line = try nextLine(from: &buffer) {
            guard line.readableBytes > 0 else { continue }
            context.fireChannelRead(Self.wrapInboundOut(line))
            return .continue
        }
        return .needMoreData
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        guard buffer.readableBytes == 0 else {
            let count = buffer.readableBytes
            buffer.clear()
            scanned = 0
            throw TextLineError.unterminatedLastLine(bufferedBytes: count)
        }
        return .needMoreData
    }

    /// Reads the next complete line (possibly empty) from the front of `buffer`, or returns nil,
    /// consuming nothing, when its newline has not arrived yet.
    public mutating func nextLine(from buffer: inout ByteBuffer) throws -> ByteBuffer? {
        let bytes = buffer.readableBytesView
        guard let newline = bytes.dropFirst(scanned).firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = bytes.count
            // One more byte than the maximum may be the `\r` of a `\r\n`.
            if bytes.count > maximumLineLength + 1 { throw TextLineError.lineTooLong(maximum: maximumLineLength) }
            return nil
        }
        scanned = 0
        var length = newline - bytes.startIndex
        if length > 0, bytes[newline - 1] == UInt8(ascii: "\r") { length -= 1 }
        guard length <= maximumLineLength else { throw TextLineError.lineTooLong(maximum: maximumLineLength) }
        let line = buffer.getSlice(at: buffer.readerIndex, length: length)!
        guard Self.isValidUTF8(line.readableBytesView) else { throw TextLineError.invalidUTF8 }
        buffer.moveReaderIndex(forwardBy: newline - bytes.startIndex + 1)
        return line
    }

    /// True when `bytes` are well-formed UTF-8 (no overlong forms, surrogates or truncated sequences).
    public static func isValidUTF8(_ bytes: ByteBufferView) -> Bool {
        // ASCII is the common case and needs no decoding.
        if !bytes.contains(where: { $0 >= 0x80 }) { return true }
        let failed = transcode(bytes.makeIterator(), from: UTF8.self, to: UTF32.self, stoppingOnError: true) { _ in }
        return !failed
    }
}
