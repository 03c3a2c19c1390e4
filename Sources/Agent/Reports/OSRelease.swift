import Foundation

/// The operating system's name from `/etc/os-release` (freedesktop.org's format: shell-quoted `KEY=value` lines).
public enum OSRelease {
    /// `PRETTY_NAME`, else `NAME VERSION`, else "Linux".
    public static func prettyName(_ text: String) -> String {
        var values: [Substring: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            values[line[..<equals]] = unquote(line[line.index(after: equals)...])
        }
        if let pretty = values["PRETTY_NAME"], !pretty.isEmpty { return pretty }
        let parts = [values["NAME"], values["VERSION"]].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? "Linux" : parts.joined(separator: " ")
    }

    private static func unquote(_ raw: Substring) -> String {
        var value = raw.trimmingCharacters(in: .whitespaces)
        if let first = value.first, first == "\"" || first == "'", value.count >= 2, value.last == first {
            value = String(value.dropFirst().dropLast())
        }
        return value.replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
    }
}
