import Foundation
import NIOCore

/// The messages of the link handshake, a challenge–response over the shared secret key: the key
/// itself never crosses the wire, and each side's proof covers a fresh nonce from the other side, so
/// a captured handshake replayed later proves nothing.
///
/// 1. linking side → gateway: ``LinkHello`` in a ``GatewayCommand/workerConnect`` (a worker) or
///    ``GatewayCommand/gatewayClientConnect`` (a service pushing commands) frame;
/// 2. gateway → linking side: ``LinkChallenge`` (``GatewayCommand/linkChallenge``);
/// 3. linking side → gateway: ``LinkProof`` (``GatewayCommand/linkProof``), its HMAC over both nonces;
/// 4. gateway → linking side: ``HandshakeResult`` (``GatewayCommand/handshakeResult``), with the
///    gateway's own HMAC over both nonces when accepted, which the linking side checks before using
///    the link.
public struct LinkHello: Codable, Sendable, Equatable {
    /// Names the process, `name:id`, for logs (`gateway-client` for a service).
    public var workerKey: String
    /// The linking side's fresh nonce, base64.
    public var nonce: String
    /// The largest frame the linking side accepts; a gateway that may send larger ones refuses the link.
    public var maxFrameSize: Int?

    public init(workerKey: String, nonce: String, maxFrameSize: Int? = nil) {
        self.workerKey = workerKey
        self.nonce = nonce
        self.maxFrameSize = maxFrameSize
    }

    enum CodingKeys: String, CodingKey {
        case workerKey = "worker_key"
        case nonce
        case maxFrameSize = "max_frame"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.workerKey = try container.decodeIfPresent(String.self, forKey: .workerKey) ?? "gateway-client"
        self.nonce = try container.decode(String.self, forKey: .nonce)
        self.maxFrameSize = try container.decodeIfPresent(Int.self, forKey: .maxFrameSize)
    }
}

/// The gateway's fresh nonce (``GatewayCommand/linkChallenge``, body JSON).
public struct LinkChallenge: Codable, Sendable, Equatable {
    /// Base64.
    public var nonce: String

    public init(nonce: String) {
        self.nonce = nonce
    }
}

/// The linking side's proof of the key (``GatewayCommand/linkProof``, body JSON).
public struct LinkProof: Codable, Sendable, Equatable {
    /// Base64 of the HMAC-SHA256 that ``LinkKey/proof(of:hello:gatewayNonce:)`` computes.
    public var proof: String

    public init(proof: String) {
        self.proof = proof
    }
}

/// The gateway's answer to a ``LinkProof`` (``GatewayCommand/handshakeResult``, body JSON).
public struct HandshakeResult: Codable, Sendable, Equatable {
    public var accepted: Bool
    /// Why the link was refused.
    public var reason: String?
    /// When accepted: the gateway's proof of the key, base64.
    public var proof: String?
    /// When accepted by a gateway with several event loops: the internal port of each loop's own
    /// listener, by loop index; the first is the registered port. A worker links to each so that a
    /// client's events and the commands about it stay on the client's loop (see ``ConnectionLanes``).
    /// Absent from gateways older than lanes, which take every link on their one port.
    public var lanePorts: [UInt16]?
    /// When accepted: the index of the event loop that holds this link.
    public var lane: Int?
    /// When accepted: true when the gateway reads acknowledgements carried as a frame's trailer
    /// (``GatewayFrame/Flags/acknowledgementTrailer``). Absent from older gateways, which are sent
    /// acknowledgement frames.
    public var acknowledgementTrailers: Bool?

    public init(
        accepted: Bool,
        reason: String? = nil,
        proof: String? = nil,
        lanePorts: [UInt16]? = nil,
        lane: Int? = nil,
        acknowledgementTrailers: Bool? = nil
    ) {
        self.accepted = accepted
        self.reason = reason
        self.proof = proof
        self.lanePorts = lanePorts
        self.lane = lane
        self.acknowledgementTrailers = acknowledgementTrailers
    }

    enum CodingKeys: String, CodingKey {
        case accepted, reason, proof
        case lanePorts = "lane_ports"
        case lane
        case acknowledgementTrailers = "ack_trailers"
    }
}

extension GatewayFrame {
    /// A handshake frame whose body is `message` as JSON.
    public static func handshake(_ command: GatewayCommand, _ message: some Encodable) -> GatewayFrame {
        // The handshake messages are structs of strings and booleans: they always encode.
        GatewayFrame(command: command, body: ByteBuffer(bytes: try! JSONEncoder().encode(message)))
    }

    /// The body decoded as the handshake message `type`, or nil when it is not one.
    public func handshakeMessage<Message: Decodable>(as type: Message.Type) -> Message? {
        try? JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }
}
