import Foundation

/// The CPU model and the number of logical CPUs from `/proc/cpuinfo`.
public struct CPUInfo: Sendable, Equatable {
    public var model: String
    public var count: Int

    /// Parses the text of `/proc/cpuinfo`. x86 names the model in `model name`; ARM and others in
    /// `Hardware`, `cpu model` or `Processor`, so the first of those present is taken.
    public static func parse(_ text: String) -> CPUInfo {
        var count = 0
        var candidates: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if key == "processor", Int(value) != nil { count += 1 }
            if candidates[key] == nil, !value.isEmpty { candidates[key] = value }
        }
        let model = ["model name", "Hardware", "cpu model", "Processor", "cpu"].lazy.compactMap { candidates[$0] }.first
        return CPUInfo(model: model ?? "unknown", count: count)
    }
}
