import NIOCore

/// A message for clients: text or binary, or raw bytes that skip the client protocol's encoding
/// (GatewayWorker's `$raw`: for a WebSocket client they must already be a WebSocket frame).
/// A string literal is a text message.
public struct OutgoingMessage: Sendable, ExpressibleByStringLiteral {
    public let bytes: ByteBuffer
    public let isBinary: Bool
    public let isRaw: Bool

    public static func text(_ text: String) -> OutgoingMessage {
        OutgoingMessage(bytes: ByteBuffer(string: text), isBinary: false)
    }

    public static func binary(_ bytes: ByteBuffer) -> OutgoingMessage {
        OutgoingMessage(bytes: bytes, isBinary: true)
    }

    public static func raw(_ bytes: ByteBuffer) -> OutgoingMessage {
        OutgoingMessage(bytes: bytes, isBinary: true, isRaw: true)
    }

    public init(bytes: ByteBuffer, isBinary: Bool, isRaw: Bool = false) {
        self.bytes = bytes
        self.isBinary = isBinary
        self.isRaw = isRaw
    }

    public init(stringLiteral text: String) {
        self = .text(text)
    }
}
