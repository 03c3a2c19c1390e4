import NIOCore

/// The body of an ``GatewayCommand/acknowledge`` frame: how many client events the worker has handled
/// on this link since it was established, as a big-endian `UInt64`, then the positions (from 0, in the
/// order the link carried them) of the events it handled beyond that count, each a big-endian `UInt64`.
///
/// The count is cumulative, so a lost or coalesced one costs nothing. A worker that handles several
/// clients' events at once can finish a later event before an earlier one: it names that one among
/// the positions, once, and the gateway keeps it from being redelivered. A worker that handles one
/// event at a time names none, and its body is the count alone.
extension GatewayFrame {
    public static func acknowledgement(handledEvents: UInt64, handledBeyond: [UInt64] = []) -> GatewayFrame {
        var body = ByteBuffer()
        writeAcknowledgementBody(handledEvents: handledEvents, handledBeyond: handledBeyond, into: &body)
        return GatewayFrame(command: .acknowledge, body: body)
    }

    /// Clears `body` and writes an acknowledgement's body into it: a link that keeps one buffer for
    /// all its acknowledgements (and lets go of each frame once encoded) allocates none per flush.
    public static func writeAcknowledgementBody(handledEvents: UInt64, handledBeyond: [UInt64], into body: inout ByteBuffer) {
        body.clear()
        body.reserveCapacity(8 * (1 + handledBeyond.count))
        body.writeInteger(handledEvents)
        for position in handledBeyond { body.writeInteger(position) }
    }

    /// The handled-event count of an acknowledgement; nil when this is not a well-formed one.
    public var acknowledgedEventCount: UInt64? {
        guard command == .acknowledge, body.readableBytes >= 8, body.readableBytes.isMultiple(of: 8) else { return nil }
        return body.getInteger(at: body.readerIndex, as: UInt64.self)
    }

    /// The positions of the events an acknowledgement names as handled beyond its count; empty when
    /// it names none or is not a well-formed one.
    public var acknowledgedEventsBeyondCount: [UInt64] {
        guard acknowledgedEventCount != nil, body.readableBytes > 8 else { return [] }
        return stride(from: body.readerIndex + 8, to: body.writerIndex, by: 8).map { body.getInteger(at: $0, as: UInt64.self)! }
    }

    /// The length of an acknowledgement trailer (``Flags/acknowledgementTrailer``): the count alone.
    public static let acknowledgementTrailerLength = 8

    /// A frame as its sender meant it and the acknowledgement frame its trailer carried, if it has
    /// one (``Flags/acknowledgementTrailer``); throws when the trailer does not fit in the body.
    public func splittingAcknowledgementTrailer() throws -> (frame: GatewayFrame, acknowledgement: GatewayFrame?) {
        guard flags.contains(.acknowledgementTrailer) else { return (self, nil) }
        guard body.readableBytes >= Self.acknowledgementTrailerLength else { throw GatewayFrameError.malformedBody(command) }
        var frame = self
        frame.flags.remove(.acknowledgementTrailer)
        let trailer = frame.body.getSlice(at: body.writerIndex - Self.acknowledgementTrailerLength, length: Self.acknowledgementTrailerLength)!
        frame.body.moveWriterIndex(to: body.writerIndex - Self.acknowledgementTrailerLength)
        return (frame, GatewayFrame(command: .acknowledge, body: trailer))
    }
}
