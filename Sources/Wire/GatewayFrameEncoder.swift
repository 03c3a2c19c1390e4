import NIOCore

/// Encodes the ``GatewayFrame``s written between two flushes into one buffer, written and flushed
/// as one: a link's burst of events, replies and acknowledgements costs one write, not one per
/// frame, and no allocation once the link is steady: the batch buffer is reused when the socket has
/// taken the previous one. Refuses a frame larger than the peer's maximum rather than sending one
/// it must reject: that write fails and the error goes down the pipeline; the link stays intact.
///
/// The owner of a link queues its frames with ``enqueue(_:)`` rather than `Channel.write`: a
/// ``GatewayFrame`` written through the pipeline is boxed in an `NIOAny`, one allocation per frame.
public final class GatewayFrameEncoder: ChannelOutboundHandler {
    public typealias OutboundIn = GatewayFrame
    public typealias OutboundOut = ByteBuffer

    /// A batch buffer starts at the size of the previous flush, up to this, so a steady stream of
    /// batches rarely grows one; a reused buffer larger than this is let go.
    static let largestInitialCapacity = 64 * 1024

    public let maximumFrameLength: Int
    private var context: ChannelHandlerContext?
    private var pending: ByteBuffer?
    /// The last batch written, kept to be cleared and filled again: no allocation when the socket
    /// has let go of it (clearing a buffer still referenced allocates a fresh one).
    private var lastBatch: ByteBuffer?
    /// Where the last frame of `pending` starts, while it may still take an acknowledgement trailer.
    private var lastFrameStart: Int?
    private var pendingPromises: [EventLoopPromise<Void>] = []
    private var lastBatchSize = 256

    public init(maximumFrameLength: Int = GatewayFrameDecoder.defaultMaximumFrameLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        append(unwrapOutboundIn(data), context: context, promise: promise)
    }

    /// Queues `frame` as if written through the pipeline at this handler, in order with the frames
    /// that were; it goes out with the next flush of the channel. Call on the channel's loop. Once
    /// the handler is removed (the channel closed) the frame is dropped, as a write would fail.
    public func enqueue(_ frame: GatewayFrame) {
        guard let context else { return }
        append(frame, context: context, promise: nil)
    }

    private func append(_ frame: GatewayFrame, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard frame.encodedLength <= maximumFrameLength else {
            let error = GatewayFrameError.frameTooLarge(length: frame.encodedLength, maximum: maximumFrameLength)
            promise?.fail(error)
            context.fireErrorCaught(error)
            return
        }
        if pending == nil {
            if var reused = lastBatch {
                lastBatch = nil
                reused.clear()
                pending = reused
            } else {
                pending = context.channel.allocator.buffer(capacity: max(lastBatchSize, frame.encodedLength))
            }
        }
        lastFrameStart = pending!.writerIndex
        pending!.writeGatewayFrame(frame)
        if let promise { pendingPromises.append(promise) }
    }

    /// Appends an acknowledgement of `handledEvents` to the last frame queued since the last flush,
    /// as its trailer (``GatewayFrame/Flags/acknowledgementTrailer``); false, changing nothing, when
    /// no frame is queued, the last one has a trailer already or would grow past the maximum: then
    /// send an acknowledgement frame instead. Only for a peer that reads trailers. Call on the
    /// channel's loop.
    public func appendAcknowledgementToLastFrame(handledEvents: UInt64) -> Bool {
        guard var batch = pending, let start = lastFrameStart,
            let length = batch.getInteger(at: start, as: UInt32.self),
            Int(length) + GatewayFrame.acknowledgementTrailerLength <= maximumFrameLength,
            let flags = batch.getInteger(at: start + Self.flagsOffset, as: UInt8.self)
        else { return false }
        pending = nil  // `batch` alone holds the storage: no copy on the writes below
        batch.setInteger(length + UInt32(GatewayFrame.acknowledgementTrailerLength), at: start)
        batch.setInteger(flags | GatewayFrame.Flags.acknowledgementTrailer.rawValue, at: start + Self.flagsOffset)
        batch.writeInteger(handledEvents)
        pending = batch
        lastFrameStart = nil
        return true
    }

    /// Where the flag byte sits in a frame's header.
    private static let flagsOffset = 21

    public func flush(context: ChannelHandlerContext) {
        if let batch = pending {
            pending = nil
            lastFrameStart = nil
            lastBatchSize = min(batch.readableBytes, Self.largestInitialCapacity)
            if batch.capacity <= Self.largestInitialCapacity { lastBatch = batch }
            context.write(wrapOutboundOut(batch), promise: takePromise(eventLoop: context.eventLoop))
        }
        context.flush()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        pending = nil
        lastFrameStart = nil
        lastBatch = nil
        takePromise(eventLoop: context.eventLoop)?.fail(ChannelError.ioOnClosedChannel)
    }

    /// One promise standing for every promise of the batch, or nil when it has none.
    private func takePromise(eventLoop: EventLoop) -> EventLoopPromise<Void>? {
        guard !pendingPromises.isEmpty else { return nil }
        defer { pendingPromises.removeAll() }
        guard pendingPromises.count > 1 else { return pendingPromises[0] }
        let combined = eventLoop.makePromise(of: Void.self)
        for promise in pendingPromises { combined.futureResult.cascade(to: promise) }
        return combined
    }
}

@available(*, unavailable)
extension GatewayFrameEncoder: Sendable {}

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
