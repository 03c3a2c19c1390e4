import Foundation

/// What a gateway tells workers about a client's WebSocket handshake
/// (the body of ``GatewayCommand/onWebSocketConnect``, JSON): enough for a handler to authenticate it.
public struct WebSocketHandshakeInfo: Codable, Sendable, Equatable {
    /// The request path without the query, e.g. `/agent`.
    public var path: String
    /// The raw query string without `?`, empty when absent.
    public var query: String
    /// Request headers in arrival order; names as sent.
    public var headers: [Header]
    /// The client's remote address, `ip:port`.
    public var remoteAddress: String

    public struct Header: Codable, Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(path: String, query: String, headers: [Header], remoteAddress: String) {
        self.path = path
        self.query = query
        self.headers = headers
        self.remoteAddress = remoteAddress
    }

    /// The first value of the header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The query's parameters, percent-decoded; a key without `=` maps to an empty string.
    public var queryParameters: [String: String] {
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(parts[0])
            parameters[key] = parts.count > 1 ? Self.decode(parts[1]) : ""
        }
        return parameters
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
