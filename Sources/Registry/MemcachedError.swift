import CMemcached

/// A failed memcached operation: what failed, on which key, and why — never the value.
public struct MemcachedError: Error, Sendable, CustomStringConvertible {
    /// Why an operation failed.
    public enum Reason: Sendable, Equatable {
        /// libmemcached returned `code` (a `memcached_return_t`), explained by `text` (`memcached_strerror`).
        case library(code: UInt32, text: String)
        /// The key was refused before anything was sent: memcached keys are 1–250 bytes, with no space or control character.
        case invalidKey(String)
        /// The configuration (server list) cannot be used.
        case invalidConfiguration(String)
        /// A compare-and-swap update kept losing to other writers.
        case tooManyConflicts(attempts: Int)
        /// The client has been shut down.
        case clientShutDown
    }

    /// Why the operation failed.
    public var reason: Reason
    /// The operation that failed, such as `get` or `cas`.
    public var operation: String
    /// The key involved, when there is one.
    public var key: String?
    /// The configured server list, to say where the failure happened.
    public var servers: [String]

    /// Creates an error.
    public init(_ reason: Reason, operation: String, key: String? = nil, servers: [String]) {
        self.reason = reason
        self.operation = operation
        self.key = key
        self.servers = servers
    }

    /// The libmemcached return code, for errors that come from libmemcached.
    public var code: UInt32? {
        if case .library(let code, _) = reason { return code }
        return nil
    }

    /// True when the key itself was refused.
    public var isInvalidKey: Bool {
        if case .invalidKey = reason { return true }
        return false
    }

    /// True when no server answered (connection refused, timeout, server marked dead): worth retrying later.
    public var isServerUnavailable: Bool {
        guard let code else { return false }
        let unavailable: [memcached_return_t] = [
            MEMCACHED_CONNECTION_FAILURE, MEMCACHED_HOST_LOOKUP_FAILURE, MEMCACHED_WRITE_FAILURE,
            MEMCACHED_READ_FAILURE, MEMCACHED_UNKNOWN_READ_FAILURE, MEMCACHED_ERRNO, MEMCACHED_TIMEOUT,
            MEMCACHED_SERVER_MARKED_DEAD, MEMCACHED_SERVER_TEMPORARILY_DISABLED, MEMCACHED_NO_SERVERS,
            MEMCACHED_SOME_ERRORS, MEMCACHED_PARTIAL_READ,
        ]
        return unavailable.contains { $0.rawValue == code }
    }

    public var description: String {
        let target = key.map { "\(operation) \"\($0)\"" } ?? operation
        let at = servers.joined(separator: ",")
        switch reason {
        case .library(let code, let text):
            return "memcached \(target) failed on \(at): \(text) (libmemcached code \(code))"
        case .invalidKey(let why):
            return "memcached \(target) refused: invalid key: \(why)"
        case .invalidConfiguration(let why):
            return "memcached configuration invalid: \(why)"
        case .tooManyConflicts(let attempts):
            return "memcached \(target) gave up after \(attempts) compare-and-swap conflicts on \(at)"
        case .clientShutDown:
            return "memcached \(target) refused: the client has been shut down"
        }
    }
}
