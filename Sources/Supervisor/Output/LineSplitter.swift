import NIOCore

/// Splits a byte stream at `\n` (a `\r` before it is dropped). Never fails: a line longer than
/// `maximumLength` is passed on in pieces, and bytes left at the end of the stream are a last line.
/// Used for children's output and the control socket, where a bad line must not close anything.
struct LineSplitter: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    var maximumLength = 64 * 1024

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            var line = buffer.readSlice(length: newline - buffer.readerIndex)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)! }
            context.fireChannelRead(Self.wrapInboundOut(line))
            return .continue
        }
        if buffer.readableBytes >= maximumLength {
            context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: maximumLength)!))
            return .continue
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 { context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: buffer.readableBytes)!)) }
        return .needMoreData
    }
}
