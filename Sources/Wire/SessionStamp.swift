import NIOCore

/// The ext data of a client event: the client's session as its gateway holds it, and the version of
/// that session (it grows by one with every change), so a worker can tell its own newer write from
/// a gateway copy that predates it.
///
/// Layout: `version u64` then the session as a JSON object. A client with no session (version 0)
/// sends no ext data at all, so the hot path pays nothing for sessions it does not use.
public struct SessionStamp: Sendable, Equatable {
    public var version: UInt64
    /// The session as JSON object bytes; empty when there is none.
    public var json: ByteBuffer

    public init(version: UInt64, json: ByteBuffer) {
        self.version = version
        self.json = json
    }

    public static let none = SessionStamp(version: 0, json: ByteBuffer())

    /// The stamp as ext data.
    public var extData: ByteBuffer {
        guard version != 0 || json.readableBytes > 0 else { return ByteBuffer() }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(8 + json.readableBytes)
        buffer.writeInteger(version)
        buffer.writeImmutableBuffer(json)
        return buffer
    }

    /// Reads a stamp from an event's ext data; nil when it is malformed.
    public init?(extData: ByteBuffer) {
        guard extData.readableBytes > 0 else {
            self = .none
            return
        }
        var reader = extData
        guard let version = reader.readInteger(as: UInt64.self) else { return nil }
        self.init(version: version, json: reader)
    }
}
