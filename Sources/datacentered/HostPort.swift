import ArgumentParser

/// Parses `host:port` option values.
enum HostPort {
    static func parse(_ text: String, option: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(option) must be host:port, got '\(text)'")
        }
        return (String(text[..<colon]), port)
    }
}
