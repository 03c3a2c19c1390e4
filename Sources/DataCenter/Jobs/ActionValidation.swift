import DataCenterProtocol
import Foundation

/// Checks a job's parameters against the action's spec before it is queued (the agent checks again).
enum ActionValidation {
    /// - Throws: `bad_request` naming the first parameter that is missing, unknown or of the wrong form.
    static func validate(_ params: [String: String], against spec: ActionSpec) throws(ProtocolError) {
        let known = Set(spec.params.map(\.name))
        if let unknown = params.keys.sorted().first(where: { !known.contains($0) }) {
            throw ProtocolError(.badRequest, "action '\(spec.name)' has no parameter '\(unknown)'")
        }
        for parameter in spec.params {
            guard let value = params[parameter.name] else {
                if parameter.required { throw ProtocolError(.badRequest, "parameter '\(parameter.name)' is required") }
                continue
            }
            guard isValid(value, for: parameter) else {
                throw ProtocolError(.badRequest, "parameter '\(parameter.name)' is not a valid \(parameter.type.rawValue)")
            }
        }
    }

    private static func isValid(_ value: String, for parameter: ActionParameter) -> Bool {
        switch parameter.type {
        case .vpsName:
            return AgentAuthRequest.isValidHostName(value)
        case .ip:
            var v4 = in_addr()
            var v6 = in6_addr()
            return inet_pton(AF_INET, value, &v4) == 1 || inet_pton(AF_INET6, value, &v6) == 1
        case .int:
            return Int(value) != nil
        case .string:
            return !value.utf8.contains(0) && value.utf8.count <= 4096
        case .enum:
            return parameter.values?.contains(value) ?? false
        }
    }
}
