import NIOCore

/// One client's input as a server receives it: the bytes received and not yet read, and the
/// ``WebSocketFrameReader`` that reads them. The start of a frame that has not fully arrived waits
/// in a buffer with room reserved for the rest of it.
///
///     input.receive(bytes)
///     while let event = input.next(buffers: buffers) { ... }
public struct WebSocketInput {
    private var reader: WebSocketFrameReader
    private var buffered: ByteBuffer?

    public init(maxMessageSize: Int) {
        reader = WebSocketFrameReader(maxMessageSize: maxMessageSize)
    }

    /// True after a close or a protocol failure: nothing more is read.
    public var isFinished: Bool { reader.isFinished }

    /// Adds bytes received after those not yet read.
    public mutating func receive(_ received: ByteBuffer) {
        guard !reader.isFinished else { return }
        guard var earlier = buffered else {
            buffered = received
            return
        }
        buffered = nil  // `earlier` alone holds the bytes, so they are appended in place
        var received = received
        earlier.writeBuffer(&received)
        buffered = earlier
    }

    /// The next event the received bytes complete; nil when they end before one. Its payload is in a
    /// buffer taken from `buffers`.
    public mutating func next(buffers: ByteBufferPool) -> WebSocketFrameReader.Event? {
        guard var input = buffered else { return nil }
        buffered = nil
        if let event = reader.next(from: &input, buffers: buffers) {
            if input.readableBytes > 0 { buffered = input }
            return event
        }
        guard input.readableBytes > 0, !reader.isFinished else { return nil }
        if let frameSize = reader.incompleteFrameSize {
            input.reserveCapacity(minimumWritableBytes: frameSize - input.readableBytes)
        }
        buffered = input
        return nil
    }
}
