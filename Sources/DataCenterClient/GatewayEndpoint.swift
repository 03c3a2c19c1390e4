import Foundation

/// A gateway's WebSocket URL, taken apart: `ws://host:port/path` or `wss://host:port/path`.
public struct GatewayEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let path: String
    public let usesTLS: Bool

    public enum Invalid: Error, CustomStringConvertible {
        case notWebSocketURL(String)
        public var description: String {
            switch self {
            case .notWebSocketURL(let text): return "'\(text)' is not a ws:// or wss:// URL with a host"
            }
        }
    }

    /// Parses `text`; the port defaults to 80 for ws and 443 for wss, the path to `/`.
    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "ws" || scheme == "wss", let host = components.host, !host.isEmpty
        else { throw Invalid.notWebSocketURL(text) }
        usesTLS = scheme == "wss"
        // URLComponents keeps the brackets of an IPv6 literal.
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? (usesTLS ? 443 : 80)
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        self.path = components.percentEncodedQuery.map { "\(path)?\($0)" } ?? path
    }

    /// The `Host` header: `host:port`, an IPv6 literal in brackets.
    var hostHeader: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public var description: String { "\(usesTLS ? "wss" : "ws")://\(hostHeader)\(path)" }
}
