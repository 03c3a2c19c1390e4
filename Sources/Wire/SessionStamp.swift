import NIOCore

/// The ext data of a client event: the client's session as its gateway holds it, and the version of
/// that session (it grows by one with every change), so a worker can tell its own newer write from
/// a gateway copy that predates it.
///
/// Layout: `version u64` then the session as a JSON object. A client with no session (version 0)
/// sends no ext data at all, so the hot path pays nothing for sessions it does not use.
///
/// A stamp is kept in its wire form, written once when the session changes: each event of the
/// client carries that buffer as it is, with no copy or allocation of its own.
public struct SessionStamp: Sendable, Equatable {
    /// The stamp as ext data.
    public let extData: ByteBuffer

    public init(version: UInt64, json: ByteBuffer) {
        guard version != 0 || json.readableBytes > 0 else {
            self.extData = ByteBuffer()
            return
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(8 + json.readableBytes)
        buffer.writeInteger(version)
        buffer.writeImmutableBuffer(json)
        self.extData = buffer
    }

    public static let none = SessionStamp(version: 0, json: ByteBuffer())

    /// Reads a stamp from an event's ext data; nil when it is malformed.
    public init?(extData: ByteBuffer) {
        guard extData.readableBytes == 0 || extData.readableBytes >= 8 else { return nil }
        self.extData = extData
    }

    public var version: UInt64 {
        extData.getInteger(at: extData.readerIndex, as: UInt64.self) ?? 0
    }

    /// The session as JSON object bytes; empty when there is none.
    public var json: ByteBuffer {
        guard extData.readableBytes > 8 else { return ByteBuffer() }
        return extData.getSlice(at: extData.readerIndex + 8, length: extData.readableBytes - 8)!
    }
}
