import NIOCore
import NIOWebSocket

/// What the gateway writes to a client, whatever protocol it speaks; the protocol's ``ClientWriter`` at the
/// end of the client's pipeline encodes it (WebSocket frames, text lines).
enum ClientOutbound: Sendable {
    /// A message, text or binary.
    case message(ByteBuffer, isBinary: Bool)
    /// Bytes written as they are, skipping the protocol's encoding (GatewayWorker's raw sends).
    case raw(ByteBuffer)
    /// A message that other clients of the same loop are written too (not raw).
    case shared(SharedMessage)
    /// `lastMessage` if any, then a close with `code` (and `reason`, when not empty) where the
    /// protocol has codes, then the end of the connection.
    case close(WebSocketErrorCode, lastMessage: ClientOutbound.Message?, reason: String)

    /// A message's bytes and kind.
    struct Message: Sendable {
        var bytes: ByteBuffer
        var isBinary: Bool
        var isRaw = false
    }
}
