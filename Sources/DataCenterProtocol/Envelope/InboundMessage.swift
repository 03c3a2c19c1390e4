import Foundation

/// One received envelope: a request, a reply or an event, with its data still undecoded.
///
/// `decode` checks the envelope itself (a JSON object, `v`, the fields of its kind); `payload(_:)`
/// decodes `data` into the type that the operation or event defines.
public struct InboundMessage: Sendable {
    /// What the message is, from its envelope fields.
    public enum Kind: Sendable, Hashable {
        /// A request: answer it with a reply whose `re` is `id`.
        case request(id: String, op: String)
        /// A reply to the request `re`, successful or failed.
        case reply(re: String?, error: ProtocolError?)
        /// An unsolicited event.
        case event(name: String)
    }

    /// A message that is not a usable envelope: answer it with `reply(to: re, error: error)`.
    public struct DecodingFailure: Error, Sendable, Hashable {
        /// The request id, when the message had a readable one.
        public let re: String?
        public let error: ProtocolError

        public init(re: String?, error: ProtocolError) {
            self.re = re
            self.error = error
        }
    }

    public let kind: Kind
    /// The message as received.
    public let bytes: Data
    /// Where `data` lies in `bytes`, when a scan found it (`EnvelopeDataSpan`); nil when it was not scanned.
    private let dataSpan: EnvelopeDataSpan.Found?

    private init(kind: Kind, bytes: Data, dataSpan: EnvelopeDataSpan.Found?) {
        self.kind = kind
        self.bytes = bytes
        self.dataSpan = dataSpan
    }

    /// Reads the envelope of `bytes` (one WebSocket message or one text-port line).
    public static func decode(_ bytes: Data) -> Result<InboundMessage, DecodingFailure> {
        let dataSpan = bytes.withUnsafeBytes(EnvelopeDataSpan.scan)
        // With `data` found, only the rest is decoded here (its value replaced by null); `payload(_:)` decodes `data` alone.
        let headerBytes = dataSpan?.data.map { span in
            bytes.prefix(span.lowerBound) + Data("null".utf8) + bytes.dropFirst(span.upperBound)
        } ?? bytes
        let header: EnvelopeHeader
        do {
            header = try JSONDecoder().decode(EnvelopeHeader.self, from: headerBytes)
        } catch {
            return .failure(DecodingFailure(re: nil, error: ProtocolError(.badRequest, "not a JSON object")))
        }
        guard let version = header.v else {
            return .failure(DecodingFailure(re: nil, error: ProtocolError(.badRequest, "missing version field 'v'")))
        }
        guard version == Double(Envelope.version) else {
            return .failure(
                DecodingFailure(
                    re: nil,
                    error: ProtocolError(.unsupportedVersion, "version \(version) is not supported; this side speaks \(Envelope.version)")))
        }
        if let id = header.id {
            guard case .string(let id) = id, !id.isEmpty, id.utf8.count <= Envelope.maximumRequestIDLength else {
                return .failure(
                    DecodingFailure(
                        re: nil,
                        error: ProtocolError(.badRequest, "'id' must be a string of 1 to \(Envelope.maximumRequestIDLength) bytes")))
            }
            guard let op = header.op else {
                return .failure(DecodingFailure(re: id, error: ProtocolError(.badRequest, "a request needs a string 'op'")))
            }
            return .success(InboundMessage(kind: .request(id: id, op: op), bytes: bytes, dataSpan: dataSpan))
        }
        if header.hasReplyTo {
            guard let ok = header.ok else {
                return .failure(DecodingFailure(re: nil, error: ProtocolError(.badRequest, "a reply needs a boolean 'ok'")))
            }
            if !ok, header.error == nil {
                return .failure(DecodingFailure(re: nil, error: ProtocolError(.badRequest, "a failed reply needs an 'error'")))
            }
            return .success(InboundMessage(kind: .reply(re: header.re, error: ok ? nil : header.error), bytes: bytes, dataSpan: dataSpan))
        }
        if let event = header.ev {
            return .success(InboundMessage(kind: .event(name: event), bytes: bytes, dataSpan: dataSpan))
        }
        return .failure(
            DecodingFailure(re: nil, error: ProtocolError(.badRequest, "neither a request ('id', 'op'), a reply ('re') nor an event ('ev')")))
    }

    /// Reads the envelope of a text message or line.
    public static func decode(_ text: String) -> Result<InboundMessage, DecodingFailure> {
        decode(Data(text.utf8))
    }

    /// The message's `data` as `type`; a missing `data` reads as `{}`.
    /// - Throws: `ProtocolError` with `bad_request`, naming the field that is missing or mistyped.
    public func payload<Payload: Decodable>(_ type: Payload.Type) throws(ProtocolError) -> Payload {
        do {
            if let dataSpan {
                if let span = dataSpan.data {
                    let data = Data(bytes.dropFirst(span.lowerBound).prefix(span.count))
                    if !data.elementsEqual("null".utf8) { return try JSONDecoder().decode(Payload.self, from: data) }
                }
            } else if let payload = try JSONDecoder().decode(DataField<Payload>.self, from: bytes).data {
                return payload
            }
            return try JSONDecoder().decode(Payload.self, from: Data("{}".utf8))
        } catch {
            throw ProtocolError(.badRequest, Self.describe(error))
        }
    }

    private static func describe(_ error: Error) -> String {
        // Paths are named from inside `data`, as the operation's documentation names its fields.
        func path(_ codingPath: [CodingKey]) -> String {
            var names = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            if names.first == "data" { names.removeFirst() }
            return names.isEmpty ? "data" : names.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing field '\(path(context.codingPath + [key]))'"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            return "field '\(path(context.codingPath))' has the wrong type"
        case .dataCorrupted(let context)?:
            return "field '\(path(context.codingPath))': \(context.debugDescription)"
        default:
            return "unreadable data: \(error)"
        }
    }
}

/// The envelope fields of any message; whatever is absent or of another type is nil.
private struct EnvelopeHeader: Decodable {
    var v: Double?
    var id: LooseValue?
    var op: String?
    var re: String?
    var hasReplyTo = false
    var ok: Bool?
    var error: ProtocolError?
    var ev: String?

    enum CodingKeys: String, CodingKey { case v, id, op, re, ok, error, ev }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        v = try? container.decodeIfPresent(Double.self, forKey: .v)
        id = try container.decodeIfPresent(LooseValue.self, forKey: .id)
        op = try? container.decodeIfPresent(String.self, forKey: .op)
        hasReplyTo = container.contains(.re)
        re = try? container.decodeIfPresent(String.self, forKey: .re)
        ok = try? container.decodeIfPresent(Bool.self, forKey: .ok)
        error = try? container.decodeIfPresent(ProtocolError.self, forKey: .error)
        ev = try? container.decodeIfPresent(String.self, forKey: .ev)
    }
}

/// A field that must be a string but may arrive as anything.
private enum LooseValue: Decodable {
    case string(String)
    case other

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = (try? container.decode(String.self)).map(LooseValue.string) ?? .other
    }
}

private struct DataField<Payload: Decodable>: Decodable {
    let data: Payload?
}
