import NIOCore

/// One message written to many clients of one event loop (a broadcast): the first WebSocket client's
/// handler encodes its frame and every other client on the loop is written the same bytes, so a
/// broadcast costs one frame per loop, not one per client.
///
/// Made inside the loop's task and used only there: it is never touched by two threads.
final class SharedMessage: @unchecked Sendable {
    let message: ClientOutbound.Message
    private var webSocketFrame: ByteBuffer?

    init(_ message: ClientOutbound.Message) {
        self.message = message
    }

    /// The message's WebSocket frame (or, for a large message, the frame's header, written beside
    /// the message's own bytes), encoded by `encode` the first time it is asked for.
    func webSocketFrame(encode: (ClientOutbound.Message) -> ByteBuffer) -> ByteBuffer {
        if let webSocketFrame { return webSocketFrame }
        let encoded = encode(message)
        webSocketFrame = encoded
        return encoded
    }
}
