import NIOCore

/// Decodes ``GatewayFrame``s from a byte stream.
///
/// The length field is checked before any body byte is buffered, so a peer cannot make the decoder
/// hold more than `maximumFrameLength` bytes; a bad length throws a ``GatewayFrameError``, and the
/// pipeline's error handling closes the link.
public struct GatewayFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = GatewayFrame

    /// The default maximum frame size: 16 MiB.
    public static let defaultMaximumFrameLength = 16 * 1024 * 1024

    public let maximumFrameLength: Int
    /// Takes each frame directly when set; otherwise frames go down the pipeline.
    private let receiver: (any GatewayFrameReceiver)?

    public init(maximumFrameLength: Int = Self.defaultMaximumFrameLength, receiver: (any GatewayFrameReceiver)? = nil) {
        precondition(maximumFrameLength >= GatewayFrame.headerLength)
        self.maximumFrameLength = maximumFrameLength
        self.receiver = receiver
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let decoded = try Self.decodeFrame(from: &buffer, maximumFrameLength: maximumFrameLength) else {
            return .needMoreData
        }
        let (frame, acknowledgement) = try decoded.splittingAcknowledgementTrailer()
        pass(frame, context: context)
        if let acknowledgement { pass(acknowledgement, context: context) }
        return .continue
    }

    private func pass(_ frame: GatewayFrame, context: ChannelHandlerContext) {
        if receiver?.receive(frame) != true { context.fireChannelRead(Self.wrapInboundOut(frame)) }
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        guard buffer.readableBytes == 0 else {
            // Report the count only: the bytes may hold a secret key, and NIO's own error would print them.
            let count = buffer.readableBytes
            buffer.clear()
            throw GatewayFrameError.truncated(bufferedBytes: count)
        }
        return .needMoreData
    }

    /// Reads one frame from the front of `buffer`, or returns nil (consuming nothing) when it is not
    /// complete yet. An acknowledgement trailer stays in the frame's body (see
    /// ``GatewayFrame/splittingAcknowledgementTrailer()``).
    public static func decodeFrame(from buffer: inout ByteBuffer, maximumFrameLength: Int) throws -> GatewayFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= GatewayFrame.headerLength else { throw GatewayFrameError.lengthBelowHeader(length) }
        guard length <= maximumFrameLength else {
            throw GatewayFrameError.lengthAboveMaximum(length: length, maximum: maximumFrameLength)
        }
        guard buffer.readableBytes >= GatewayFrame.headerLength else { return nil }
        let start = buffer.readerIndex
        let commandByte = buffer.getInteger(at: start + 4, as: UInt8.self)!
        guard let command = GatewayCommand(rawValue: commandByte) else {
            throw GatewayFrameError.unknownCommand(commandByte)
        }
        let extLength = buffer.getInteger(at: start + 24, as: UInt32.self)!
        guard extLength <= length - UInt32(GatewayFrame.headerLength) else {
            throw GatewayFrameError.extLengthOutOfFrame(extLength: extLength, frameLength: length)
        }
        guard buffer.readableBytes >= Int(length) else { return nil }

        buffer.moveReaderIndex(forwardBy: 5)
        let localIP = buffer.readInteger(as: UInt32.self)!
        let localPort = buffer.readInteger(as: UInt16.self)!
        let clientIP = buffer.readInteger(as: UInt32.self)!
        let clientPort = buffer.readInteger(as: UInt16.self)!
        let connectionID = buffer.readInteger(as: UInt32.self)!
        let flags = buffer.readInteger(as: UInt8.self)!
        let gatewayPort = buffer.readInteger(as: UInt16.self)!
        buffer.moveReaderIndex(forwardBy: 4)
        let extData = buffer.readSlice(length: Int(extLength))!
        let body = buffer.readSlice(length: Int(length) - GatewayFrame.headerLength - Int(extLength))!
        return GatewayFrame(
            command: command,
            localIP: localIP,
            localPort: localPort,
            clientIP: clientIP,
            clientPort: clientPort,
            connectionID: connectionID,
            flags: GatewayFrame.Flags(rawValue: flags),
            gatewayPort: gatewayPort,
            extData: extData,
            body: body
        )
    }
}

/// A link's handler that takes the frames its ``GatewayFrameDecoder`` reads as direct calls: a
/// ``GatewayFrame`` passed through the pipeline is boxed in an `NIOAny`, one allocation per frame.
/// It sits after the decoder in the same pipeline and handles a frame as it would in `channelRead`,
/// with its own context (which it keeps from `handlerAdded`).
public protocol GatewayFrameReceiver: AnyObject {
    /// Handles one decoded frame, on the channel's loop. Returns false when the handler cannot take
    /// it (it is not in the pipeline): the decoder then passes it down the pipeline instead.
    func receive(_ frame: GatewayFrame) -> Bool
}
