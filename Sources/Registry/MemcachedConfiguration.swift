import Foundation
import NIOCore

/// How a ``MemcachedClient`` reaches its memcached servers.
///
/// Every field has a default, so `MemcachedConfiguration()` talks to a local memcached on the standard port.
public struct MemcachedConfiguration: Sendable, Equatable {
    /// The servers, as `host:port` (`[v6addr]:port` for IPv6; the port defaults to 11211).
    /// Keys are spread over them by consistent hashing, so every process must list the same servers.
    public var servers: [String]

    /// How long to wait for a TCP connection to a server.
    public var connectTimeout: TimeAmount

    /// How long to wait for a server to accept a request or answer it.
    public var ioTimeout: TimeAmount

    /// How long a server that failed is skipped before the client tries it again (whole seconds, at least 1).
    /// Short, so that a memcached that comes back is used again at once.
    public var retryTimeout: TimeAmount

    /// Number of threads, and of libmemcached handles, that run requests; the number of requests in flight at once.
    public var poolSize: Int

    /// Creates a configuration; every parameter has a default.
    public init(
        servers: [String] = ["127.0.0.1:11211"],
        connectTimeout: TimeAmount = .milliseconds(500),
        ioTimeout: TimeAmount = .milliseconds(1000),
        retryTimeout: TimeAmount = .seconds(1),
        poolSize: Int = 2
    ) {
        self.servers = servers
        self.connectTimeout = connectTimeout
        self.ioTimeout = ioTimeout
        self.retryTimeout = retryTimeout
        self.poolSize = poolSize
    }
}

extension MemcachedConfiguration {
    /// A server entry split into host and port.
    struct Server: Equatable {
        var host: String
        var port: UInt16
    }

    /// Parses `servers`, or throws a `MemcachedError` naming the entry that is wrong.
    func parsedServers() throws -> [Server] {
        guard !servers.isEmpty else {
            throw MemcachedError(.invalidConfiguration("the server list is empty"), operation: "configure", servers: servers)
        }
        return try servers.map { entry in
            guard let server = Self.parse(entry) else {
                throw MemcachedError(
                    .invalidConfiguration("server \"\(entry)\" is not host:port"),
                    operation: "configure",
                    servers: servers
                )
            }
            return server
        }
    }

    static func parse(_ entry: String) -> Server? {
        let text = entry.trimmingCharacters(in: .whitespaces)
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = Substring(text)
        }
        guard !host.isEmpty, !host.contains(":") || text.hasPrefix("[") else { return nil }
        if let portText {
            guard let port = UInt16(portText), port > 0 else { return nil }
            return Server(host: String(host), port: port)
        }
        return Server(host: String(host), port: 11211)
    }
}
