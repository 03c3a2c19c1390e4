import DataCenterProtocol

/// One action of the agent's allow-list: the only things the central side can make this host run.
///
/// `args` are passed to `program` as separate argv elements; an element that is exactly `{param}`
/// is replaced by that parameter's validated value (one element, whatever it contains), and an
/// optional parameter that was not given removes its element. No shell sees any of it unless `shell`
/// is true: then `program` is a script for `/bin/sh -c`, and the substituted `args` reach it as
/// `$1`, `$2`, ... (never pasted into the script's text).
public struct AllowedAction: Sendable, Equatable {
    /// What the agent announces to the central side: name, description, typed parameters.
    public var spec: ActionSpec
    public var program: String
    public var args: [String]
    public var shell: Bool
    /// This action's timeout when the job names none; nil takes the agent's default.
    public var timeoutSeconds: Int?

    public var name: String { spec.name }

    /// The spec as the agent announces it: with the timeout that a job naming none gets under `limits`.
    public func announcedSpec(limits: AgentConfiguration.JobLimits) -> ActionSpec {
        var announced = spec
        announced.timeoutSeconds = min(timeoutSeconds ?? limits.defaultTimeoutSeconds, limits.maxTimeoutSeconds)
        return announced
    }

    public init(spec: ActionSpec, program: String, args: [String] = [], shell: Bool = false, timeoutSeconds: Int? = nil) {
        self.spec = spec
        self.program = program
        self.args = args
        self.shell = shell
        self.timeoutSeconds = timeoutSeconds
    }

    /// The program and argv for `values`, after checking every value against its parameter's type.
    /// - Throws: ``ActionRefusal`` naming the first parameter that is missing, unknown or invalid.
    public func commandLine(for values: [String: String]) throws(ActionRefusal) -> (program: String, arguments: [String]) {
        if let problem = spec.problem(with: values) {
            throw .badParameter(action: name, parameter: problem.parameter, reason: problem.reason)
        }
        let declared = Set(spec.params.map(\.name))
        var arguments: [String] = []
        for element in args {
            let placeholder = String(element.dropFirst().dropLast())
            if element.hasPrefix("{"), element.hasSuffix("}"), declared.contains(placeholder) {
                if let value = values[placeholder] { arguments.append(value) }
            } else {
                arguments.append(element)
            }
        }
        if shell { return ("/bin/sh", ["-c", program, name] + arguments) }
        return (program, arguments)
    }
}

extension AllowedAction: Codable {
    private enum CodingKeys: String, CodingKey {
        case name, description, params, program, args, shell, timeoutSeconds
    }

    /// A parameter as the config file may write it: `required` defaults to true.
    private struct ConfiguredParameter: Decodable {
        var name: String
        var type: ActionParameterType
        var required: Bool?
        var values: [String]?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let parameters = try container.decodeIfPresent([ConfiguredParameter].self, forKey: .params) ?? []
        spec = ActionSpec(
            name: try container.decode(String.self, forKey: .name),
            description: try container.decodeIfPresent(String.self, forKey: .description) ?? "",
            params: parameters.map { ActionParameter(name: $0.name, type: $0.type, required: $0.required ?? true, values: $0.values) }
        )
        program = try container.decode(String.self, forKey: .program)
        args = try container.decodeIfPresent([String].self, forKey: .args) ?? []
        shell = try container.decodeIfPresent(Bool.self, forKey: .shell) ?? false
        timeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .timeoutSeconds)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(spec.name, forKey: .name)
        try container.encode(spec.description, forKey: .description)
        try container.encode(spec.params, forKey: .params)
        try container.encode(program, forKey: .program)
        try container.encode(args, forKey: .args)
        try container.encode(shell, forKey: .shell)
        try container.encodeIfPresent(timeoutSeconds, forKey: .timeoutSeconds)
    }
}

/// Why the agent refused to run a job.
public enum ActionRefusal: Error, Equatable, CustomStringConvertible {
    case notAllowed(String)
    case badParameter(action: String, parameter: String, reason: String)

    public var description: String {
        switch self {
        case .notAllowed(let action): return "action '\(action)' is not on this host's allow-list"
        case .badParameter(let action, let parameter, let reason): return "parameter '\(parameter)' of '\(action)' \(reason)"
        }
    }
}
