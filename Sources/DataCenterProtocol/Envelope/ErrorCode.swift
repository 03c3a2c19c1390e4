/// The stable error codes of a reply with `ok: false`; the message beside them is for people.
public enum ErrorCode: String, Sendable, Hashable, Codable, CaseIterable {
    /// The first request on a connection was not an `auth.*`; the connection is then closed.
    case authRequired = "auth_required"
    /// A wrong, unknown or expired token; the connection is then closed.
    case authFailed = "auth_failed"
    /// A malformed envelope, a missing or mistyped field, a parameter that fails validation.
    case badRequest = "bad_request"
    /// `v` other than ``Envelope/version``.
    case unsupportedVersion = "unsupported_version"
    /// `op` is not defined.
    case unknownOperation = "unknown_operation"
    /// Authenticated, but this role may not do this.
    case forbidden
    /// No such host, job or timer.
    case notFound = "not_found"
    /// The host must be connected for this.
    case notOnline = "not_online"
    /// The request contradicts the current state (cancelling a finished job).
    case conflict
    /// A limit is reached; retry later.
    case busy
    /// The one who must answer (a host's agent, still connected) did not within the time allowed.
    case timeout
    /// A failure on the answering side; the message says which.
    case `internal`
}

/// A failed request: the code and message of an error reply.
public struct ProtocolError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
