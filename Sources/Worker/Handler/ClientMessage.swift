import NIOCore

/// A WebSocket message from a client, as it arrived.
public struct ClientMessage: Sendable {
    public let bytes: ByteBuffer
    /// True for a binary WebSocket message, false for text.
    public let isBinary: Bool

    public init(bytes: ByteBuffer, isBinary: Bool) {
        self.bytes = bytes
        self.isBinary = isBinary
    }

    /// The message as UTF-8 text.
    public var text: String { String(buffer: bytes) }
}
