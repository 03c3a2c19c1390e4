/// Why TLS to gateways cannot be set up.
package enum LinkTLSError: Error, CustomStringConvertible {
    /// The CA file is missing, unreadable, or holds no PEM certificate.
    case unreadableTrustRoots(path: String)

    package var description: String {
        switch self {
        case .unreadableTrustRoots(let path):
            return "link TLS CA file \(path) does not exist or holds no PEM certificate"
        }
    }
}
