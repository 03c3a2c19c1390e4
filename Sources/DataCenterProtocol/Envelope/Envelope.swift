import Foundation

/// The DataCenter envelope: builds the JSON text of requests, replies and events (version 1).
///
/// Every message between agents, the central handler, operators and services is one of these,
/// as one WebSocket text message or one text-port line. `InboundMessage` reads them.
public enum Envelope {
    /// The envelope version this code speaks.
    public static let version = 1
    /// The longest request id accepted, in UTF-8 bytes.
    public static let maximumRequestIDLength = 64

    /// A request `op` with `data`, under the sender's `id`.
    public static func request(id: String, op: OperationName, data: some Encodable & Sendable) -> String {
        encode(OutboundRequest(v: version, id: id, op: op.rawValue, data: data))
    }

    /// A successful reply to the request `re` (nil when the request's id could not be read).
    public static func reply(to re: String?, data: some Encodable & Sendable) -> String {
        // Most replies to agents acknowledge a chunk or a result: built without an encoder, as it would write them.
        if data is EmptyPayload, let re, re.utf8.allSatisfy(isPlainStringByte) {
            return #"{"data":{},"ok":true,"re":"\#(re)","v":\#(version)}"#
        }
        return encode(OutboundReply(v: version, re: re, data: data, error: nil))
    }

    /// A byte that a JSON string holds as it is (no escape), as the encoder writes strings.
    private static func isPlainStringByte(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
    }

    /// A failed reply to the request `re` (nil when the request's id could not be read).
    public static func reply(to re: String?, error: ProtocolError) -> String {
        encode(OutboundReply<EmptyPayload>(v: version, re: re, data: nil, error: error))
    }

    /// An event `name` with `data`.
    public static func event(_ name: EventName, data: some Encodable & Sendable) -> String {
        encode(OutboundEvent(v: version, ev: name.rawValue, data: data))
    }

    /// An event `name` whose data is JSON already (one object), so it is not encoded again.
    public static func event(_ name: EventName, json data: some Collection<UInt8>) -> String {
        #"{"v":\#(version),"ev":"\#(name.rawValue)","data":"# + String(decoding: data, as: UTF8.self) + "}"
    }

    private static func encode(_ value: some Encodable) -> String {
        do {
            return String(decoding: try JSONEncoder.envelope.encode(value), as: UTF8.self)
        } catch {
            // Only a payload with a non-finite number gets here: a programming error on our side.
            let failure = OutboundReply<EmptyPayload>(
                v: version, re: nil, data: nil, error: ProtocolError(.internal, "could not encode a message: \(error)"))
            return String(decoding: (try? JSONEncoder.envelope.encode(failure)) ?? Data(), as: UTF8.self)
        }
    }
}

extension JSONEncoder {
    /// The encoder of envelopes and payloads: sorted keys, so equal values give equal text.
    static var envelope: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// The data of a request or reply that has none: `{}`.
public struct EmptyPayload: Codable, Sendable, Hashable {
    public init() {}
}

private struct OutboundRequest<Payload: Encodable>: Encodable {
    let v: Int
    let id: String
    let op: String
    let data: Payload
}

private struct OutboundEvent<Payload: Encodable>: Encodable {
    let v: Int
    let ev: String
    let data: Payload
}

private struct OutboundReply<Payload: Encodable>: Encodable {
    let v: Int
    let re: String?
    let data: Payload?
    let error: ProtocolError?

    enum CodingKeys: String, CodingKey { case v, re, ok, data, error }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(v, forKey: .v)
        // `re` is always present: null names a request whose id could not be read.
        try container.encode(re, forKey: .re)
        if let error {
            try container.encode(false, forKey: .ok)
            try container.encode(error, forKey: .error)
        } else {
            try container.encode(true, forKey: .ok)
            try container.encode(data, forKey: .data)
        }
    }
}
