import ArgumentParser
import Supervisor

extension HostPort {
    /// Parses a `host:port` option value, or fails naming the option.
    static func parse(_ text: String, option: String) throws -> (host: String, port: Int) {
        guard let address = HostPort(text) else { throw ValidationError("\(option) must be host:port, got '\(text)'") }
        return (address.host, address.port)
    }
}
