import Wire

/// Why a cluster API call could not be carried out.
public enum ClusterAPIError: Error, Equatable, CustomStringConvertible {
    /// The call needs a current client, but it was made outside a client event (from a timer, say).
    case noCurrentClient
    /// The gateway that holds the client is not linked (gone, or not yet discovered).
    case gatewayNotLinked(GatewayAddress)
    /// No gateway is linked, so nothing can be sent anywhere.
    case noGatewayLinked
    /// A client id is not 20 hex digits.
    case malformedClientID(String)
    /// The gateway did not answer the query in time.
    case timedOut(GatewayAddress, after: String)
    /// The gateway answered the query with an error.
    case refused(GatewayAddress, reason: String)
    /// The gateway's answer could not be read.
    case malformedAnswer(GatewayAddress)
    /// Too many queries to this gateway wait for their answers; this one was not sent.
    case tooManyPendingQueries(GatewayAddress, limit: Int)
    /// The call's frame is larger than a link carries; nothing was sent and the link stays up.
    case frameTooLarge(GatewayCommand, length: Int, maximum: Int)

    public var description: String {
        switch self {
        case .noCurrentClient:
            return "no current client: this call is only valid while handling a client event"
        case .gatewayNotLinked(let address):
            return "gateway \(address) is not linked"
        case .noGatewayLinked:
            return "no gateway is linked"
        case .malformedClientID(let text):
            return "'\(text)' is not a client id (20 hex digits)"
        case .timedOut(let address, let after):
            return "gateway \(address) did not answer within \(after)"
        case .refused(let address, let reason):
            return "gateway \(address) refused the call: \(reason)"
        case .malformedAnswer(let address):
            return "gateway \(address) sent an answer that could not be read"
        case .tooManyPendingQueries(let address, let limit):
            return "\(limit) queries to gateway \(address) are waiting for their answers: not sent"
        case .frameTooLarge(let command, let length, let maximum):
            return "\(command) of \(length) bytes is larger than a gateway link carries (\(maximum) bytes): not sent"
        }
    }
}

/// A call that fans out to every gateway got answers from some but not all: the answer merged from
/// the gateways that did answer, and why each other one did not.
public struct IncompleteAnswerError<Answer: Sendable>: Error, CustomStringConvertible {
    public let partialAnswer: Answer
    public let failures: [GatewayAddress: ClusterAPIError]

    public var description: String {
        let reasons = failures.keys.sorted().map { "\(failures[$0]!)" }.joined(separator: "; ")
        return "\(failures.count) gateway(s) did not answer: \(reasons)"
    }
}

extension ClientID {
    /// Parses a client id, with a clear error for anything that is not one.
    public static func parse(_ text: String) throws -> ClientID {
        guard let id = ClientID(text) else { throw ClusterAPIError.malformedClientID(text) }
        return id
    }
}
