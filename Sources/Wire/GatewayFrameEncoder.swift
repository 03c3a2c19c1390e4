import NIOCore

/// Encodes ``GatewayFrame``s; refuses a frame larger than the peer's maximum rather than sending one it must reject.
public struct GatewayFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = GatewayFrame

    public let maximumFrameLength: Int

    public init(maximumFrameLength: Int = GatewayFrameDecoder.defaultMaximumFrameLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    public func encode(data frame: GatewayFrame, out: inout ByteBuffer) throws {
        guard frame.encodedLength <= maximumFrameLength else {
            throw GatewayFrameError.frameTooLarge(length: frame.encodedLength, maximum: maximumFrameLength)
        }
        out.writeGatewayFrame(frame)
    }
}

extension ByteBuffer {
    /// Appends `frame` in wire layout and returns the number of bytes written.
    @discardableResult
    public mutating func writeGatewayFrame(_ frame: GatewayFrame) -> Int {
        reserveCapacity(minimumWritableBytes: frame.encodedLength)
        var written = writeInteger(UInt32(frame.encodedLength))
        written += writeInteger(frame.command.rawValue)
        written += writeInteger(frame.localIP)
        written += writeInteger(frame.localPort)
        written += writeInteger(frame.clientIP)
        written += writeInteger(frame.clientPort)
        written += writeInteger(frame.connectionID)
        written += writeInteger(frame.flags.rawValue)
        written += writeInteger(frame.gatewayPort)
        written += writeInteger(UInt32(frame.extData.readableBytes))
        written += writeImmutableBuffer(frame.extData)
        written += writeImmutableBuffer(frame.body)
        return written
    }
}
