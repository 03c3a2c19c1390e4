import NIOCore

/// A message for clients: text or binary WebSocket data. A string literal is a text message.
public struct OutgoingMessage: Sendable, ExpressibleByStringLiteral {
    public let bytes: ByteBuffer
    public let isBinary: Bool

    public static func text(_ text: String) -> OutgoingMessage {
        OutgoingMessage(bytes: ByteBuffer(string: text), isBinary: false)
    }

    public static func binary(_ bytes: ByteBuffer) -> OutgoingMessage {
        OutgoingMessage(bytes: bytes, isBinary: true)
    }

    public init(bytes: ByteBuffer, isBinary: Bool) {
        self.bytes = bytes
        self.isBinary = isBinary
    }

    public init(stringLiteral text: String) {
        self = .text(text)
    }
}
