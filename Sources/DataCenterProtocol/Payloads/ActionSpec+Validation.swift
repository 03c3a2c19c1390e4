#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A job parameter that an action does not accept: its name and what is wrong with it.
public struct ParameterProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public let parameter: String
    /// `is required`, `is not a parameter of this action`, `is not an IP address`, ...
    public let reason: String

    public var description: String { "parameter '\(parameter)' \(reason)" }
}

extension ActionSpec {
    /// The first parameter of `values` that is unknown, missing while required, or not of its type;
    /// nil when they are all acceptable. The central side checks with this before it queues a job, and
    /// the agent again before it runs one, so both refuse exactly the same values.
    public func problem(with values: [String: String]) -> ParameterProblem? {
        let declared = Set(params.map(\.name))
        if let unknown = values.keys.sorted().first(where: { !declared.contains($0) }) {
            return ParameterProblem(parameter: unknown, reason: "is not a parameter of this action")
        }
        for parameter in params {
            if let value = values[parameter.name] {
                if let reason = parameter.problem(with: value) { return ParameterProblem(parameter: parameter.name, reason: reason) }
            } else if parameter.required {
                return ParameterProblem(parameter: parameter.name, reason: "is required")
            }
        }
        return nil
    }

    /// Checks `values` as ``problem(with:)`` does.
    /// - Throws: `bad_request` naming the action and the first parameter that is not acceptable.
    public func validate(_ values: [String: String]) throws(ProtocolError) {
        if let problem = problem(with: values) { throw ProtocolError(.badRequest, "\(problem) (action '\(name)')") }
    }
}

extension ActionParameter {
    /// What is wrong with `value` for this parameter's type, or nil when it is acceptable:
    /// * `vps-name`: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`, so never an option (leading dash) nor a path;
    /// * `ip`: a literal IPv4 or IPv6 address;
    /// * `int`: a decimal integer;
    /// * `string`: up to 1024 characters, no control characters;
    /// * `enum`: one of `values`.
    public func problem(with value: String) -> String? {
        switch type {
        case .vpsName:
            return Self.isVPSName(value) ? nil : "is not a VPS name ([A-Za-z0-9][A-Za-z0-9._-]{0,63})"
        case .ip:
            return Self.isIPAddress(value) ? nil : "is not an IP address"
        case .int:
            return Int(value) != nil ? nil : "is not an integer"
        case .string:
            let control = value.unicodeScalars.contains { $0.properties.generalCategory == .control }
            return value.count <= 1024 && !control ? nil : "is longer than 1024 characters or contains control characters"
        case .enum:
            return values?.contains(value) == true ? nil : "is not one of \((values ?? []).joined(separator: ", "))"
        }
    }

    /// True for a VPS name: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
    public static func isVPSName(_ value: String) -> Bool {
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        let bytes = Array(value.utf8)
        guard (1...64).contains(bytes.count), isAlphanumeric(bytes[0]) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// True for a literal IPv4 or IPv6 address (as `inet_pton` reads them).
    public static func isIPAddress(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
    }
}
