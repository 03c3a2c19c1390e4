import Foundation
import NIOSSL

/// Loads a certificate chain and private key (wss, or the internal port) into a server TLS context.
/// Its errors and its summary name the certificate file and subject, never the key (neither its path
/// nor its bytes).
enum TLSContextLoader {
    /// The context, and what to log about the certificate.
    static func load(_ listener: SecureWebSocketListener) throws -> (context: NIOSSLContext, certificate: String) {
        try load(certificatePath: listener.certificatePath, keyPath: listener.keyPath)
    }

    /// The context for `certificatePath` (server certificate first, then intermediates) and `keyPath`.
    static func load(certificatePath: String, keyPath: String) throws -> (context: NIOSSLContext, certificate: String) {
        guard FileManager.default.isReadableFile(atPath: certificatePath) else {
            throw GatewayTLSError.unreadableCertificate(path: certificatePath)
        }
        guard let chain = try? NIOSSLCertificate.fromPEMFile(certificatePath), let leaf = chain.first else {
            throw GatewayTLSError.malformedCertificate(path: certificatePath)
        }
        guard FileManager.default.isReadableFile(atPath: keyPath) else {
            throw GatewayTLSError.unreadableKey
        }
        guard let key = try? NIOSSLPrivateKey(file: keyPath, format: .pem) else {
            throw GatewayTLSError.malformedKey
        }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw GatewayTLSError.unusableCertificateAndKey(path: certificatePath, reason: "\(error)")
        }
        return (context, "\(leaf) from \(certificatePath) (chain of \(chain.count))")
    }
}

/// Why the wss certificate or key cannot be used. Descriptions never show the key's path or bytes.
public enum GatewayTLSError: Error, CustomStringConvertible {
    /// The certificate file is missing or unreadable.
    case unreadableCertificate(path: String)
    /// The certificate file holds no PEM certificate.
    case malformedCertificate(path: String)
    /// The key file is missing or unreadable.
    case unreadableKey
    /// The key file holds no unencrypted PEM key.
    case malformedKey
    /// TLS refuses the pair (for example, the key is not the certificate's).
    case unusableCertificateAndKey(path: String, reason: String)

    /// What went wrong, naming the certificate file but not the key.
    public var description: String {
        switch self {
        case .unreadableCertificate(let path):
            return "TLS certificate file \(path) does not exist or is not readable"
        case .malformedCertificate(let path):
            return "TLS certificate file \(path) holds no PEM certificate"
        case .unreadableKey:
            return "TLS private key file does not exist or is not readable (its path is not shown)"
        case .malformedKey:
            return "TLS private key file holds no unencrypted PEM private key (its path is not shown)"
        case .unusableCertificateAndKey(let path, let reason):
            return "TLS certificate \(path) and its private key cannot be used together: \(reason)"
        }
    }
}
