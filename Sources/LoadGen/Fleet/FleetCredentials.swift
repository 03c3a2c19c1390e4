import ArgumentParser
import Foundation

/// The simulated hosts' names and agent tokens, read from the file that
/// `datacentered token issue --role agent --names-from FILE` printed (`name<TAB>token` per line).
/// The tokens are used to authenticate and never printed.
struct FleetCredentials: Sendable {
    struct Host: Sendable {
        let name: String
        let token: String
    }

    let hosts: [Host]

    /// Reads `path` and keeps the lines `first ..< first + count`.
    init(path: String, first: Int, count: Int) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read the token list \(path)")
        }
        var hosts: [Host] = []
        for (number, line) in text.split(separator: "\n").enumerated() {
            let fields = line.split(separator: "\t")
            guard fields.count == 2 else { throw ValidationError("\(path) line \(number + 1): expected name<TAB>token") }
            hosts.append(Host(name: String(fields[0]), token: String(fields[1])))
        }
        guard first >= 0, first + count <= hosts.count else {
            throw ValidationError("\(path) holds \(hosts.count) hosts; --first \(first) --agents \(count) reaches past them")
        }
        self.hosts = Array(hosts[first..<first + count])
    }
}
