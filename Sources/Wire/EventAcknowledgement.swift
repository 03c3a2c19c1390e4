import NIOCore

/// The body of an ``GatewayCommand/acknowledge`` frame: how many client events the worker has handled
/// on this link since it was established, as a big-endian `UInt64`. Acknowledgements are cumulative,
/// so a lost or coalesced one costs nothing.
extension GatewayFrame {
    public static func acknowledgement(handledEvents: UInt64) -> GatewayFrame {
        var body = ByteBuffer()
        body.writeInteger(handledEvents)
        return GatewayFrame(command: .acknowledge, body: body)
    }

    /// The handled-event count of an acknowledgement; nil when this is not a well-formed one.
    public var acknowledgedEventCount: UInt64? {
        guard command == .acknowledge, body.readableBytes == 8 else { return nil }
        return body.getInteger(at: body.readerIndex, as: UInt64.self)
    }
}
