/// An action on an agent's allow-list, as the agent announces it (without its command).
public struct ActionSpec: Codable, Sendable, Hashable {
    public var name: String
    public var description: String
    public var params: [ActionParameter]
    /// The timeout, in seconds, that a job of this action gets on its agent when the job names none
    /// (the action's own, else the agent's default); absent from agents that predate it.
    public var timeoutSeconds: Int?

    public init(name: String, description: String = "", params: [ActionParameter] = [], timeoutSeconds: Int? = nil) {
        self.name = name
        self.description = description
        self.params = params
        self.timeoutSeconds = timeoutSeconds
    }
}

/// A typed parameter of an action; the agent validates every value against it before it runs anything.
public struct ActionParameter: Codable, Sendable, Hashable {
    public var name: String
    public var type: ActionParameterType
    public var required: Bool
    /// The allowed values of an `enum` parameter.
    public var values: [String]?

    public init(name: String, type: ActionParameterType, required: Bool = true, values: [String]? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.values = values
    }
}

/// The type of an action parameter.
public enum ActionParameterType: String, Codable, Sendable, Hashable, CaseIterable {
    case vpsName = "vps-name"
    case ip
    case int
    case string
    case `enum`
}
