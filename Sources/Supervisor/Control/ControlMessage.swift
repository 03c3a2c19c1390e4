/// A request on the control socket: one JSON object on one line.
public struct ControlRequest: Codable, Sendable {
    /// `status`, `connections`, `stop`, `reload`.
    public var command: String

    public init(command: String) {
        self.command = command
    }
}

/// The answer: one JSON object on one line.
public struct ControlResponse: Codable, Sendable {
    public var ok: Bool
    /// What happened, for a person.
    public var message: String?
    public var status: StatusReport?
    public var connections: [ConnectionInfo]?

    public init(ok: Bool, message: String? = nil, status: StatusReport? = nil, connections: [ConnectionInfo]? = nil) {
        self.ok = ok
        self.message = message
        self.status = status
        self.connections = connections
    }
}
