import Crypto
import Foundation

/// The shared secret of a cluster, as used to prove it on a link: HMAC-SHA256 over both sides'
/// nonces, labelled by role so that one side's proof is never valid as the other's.
public struct LinkKey: Sendable {
    /// Fewer bytes than this is refused: a short key can be guessed offline from one captured handshake.
    public static let minimumLength = 16
    /// Bytes of each nonce.
    public static let nonceLength = 32

    /// Which side of a link a proof is from.
    public enum Role: String, Sendable {
        /// The side that links: a worker or a gateway client.
        case linking
        case gateway
    }

    /// The secret's bytes (swift-crypto's `SymmetricKey` is not `Sendable`; one is made per proof).
    private let secret: [UInt8]

    /// Throws ``LinkKeyError`` unless `secret` has at least ``minimumLength`` bytes.
    public init(secret: String) throws {
        let bytes = Array(secret.utf8)
        guard bytes.count >= Self.minimumLength else {
            throw bytes.isEmpty ? LinkKeyError.missing : LinkKeyError.tooShort(length: bytes.count)
        }
        self.secret = bytes
    }

    /// A fresh random nonce, base64.
    public static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<nonceLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }

    /// `role`'s proof for the handshake that `hello` opened and the gateway challenged with `gatewayNonce`, base64.
    public func proof(of role: Role, hello: LinkHello, gatewayNonce: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: transcript(role, hello, gatewayNonce), using: SymmetricKey(data: secret))).base64EncodedString()
    }

    /// True when `proof` is `role`'s proof for this handshake (compared in constant time).
    public func verify(_ proof: String, of role: Role, hello: LinkHello, gatewayNonce: String) -> Bool {
        guard let code = Data(base64Encoded: proof) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: transcript(role, hello, gatewayNonce), using: SymmetricKey(data: secret))
    }

    /// Everything the proof covers, each part length-prefixed so no two transcripts run together.
    private func transcript(_ role: Role, _ hello: LinkHello, _ gatewayNonce: String) -> Data {
        var data = Data()
        for part in ["datacentered-link-v1", role.rawValue, hello.workerKey, hello.nonce, gatewayNonce] {
            let bytes = Array(part.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: bytes)
        }
        return data
    }
}

/// A secret key that cannot protect links.
public enum LinkKeyError: Error, Equatable, CustomStringConvertible {
    case missing
    case tooShort(length: Int)

    public var description: String {
        switch self {
        case .missing:
            return "no secret key: set DATACENTERED_SECRET_KEY (at least \(LinkKey.minimumLength) bytes) on every gateway, worker and pushing service"
        case .tooShort(let length):
            return "the secret key has \(length) bytes; at least \(LinkKey.minimumLength) are needed (e.g. `openssl rand -hex 32`)"
        }
    }
}
