import ArgumentParser
import DataCenter
import DataCenterProtocol
import Foundation

/// `datacentered token`: issues, rotates, revokes and lists the tokens of agents, operators and services.
/// The token file holds only their SHA-256 hashes; a new token is printed once and kept nowhere.
struct TokenSubcommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage the datacenter handler's tokens (hashes in a 0600 file; a new token is printed once).",
        subcommands: [Issue.self, Revoke.self, List.self]
    )

    struct FileOption: ParsableArguments {
        @Option(help: "The token file, as the workers' --tokens.")
        var file = DataCenterConfiguration().tokenFile

        func load() throws -> TokenHashFile {
            FileManager.default.fileExists(atPath: file) ? try TokenHashFile.load(from: file) : TokenHashFile()
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new token for a host agent, operator or service and print it (once).")

        @Option(help: "agent, operator or service.")
        var role: TokenRole

        @Option(help: "The host name (agent) or the operator's or service's name.")
        var name: String?

        @Option(help: "Issue one token per name listed in this file (one a line; '-' reads stdin) and print 'name<TAB>token' lines, with one write of the token file.")
        var namesFrom: String?

        @Option(help: "Keep the name's earlier tokens working this many seconds (a rotation); without it they are removed.")
        var grace: Double?

        @OptionGroup var file: FileOption

        func validate() throws {
            guard (name == nil) != (namesFrom == nil) else { throw ValidationError("give either --name or --names-from") }
            if let name { try Self.check(name, role: role) }
        }

        func run() throws {
            var tokens = try file.load()
            guard let namesFrom else {
                let token = tokens.issue(name: name!, role: role, graceSeconds: grace)
                try tokens.save(to: file.file)
                print(token)
                return
            }
            let names = try Self.readNames(namesFrom)
            for name in names { try Self.check(name, role: role) }
            let issued = names.map { ($0, tokens.issue(name: $0, role: role, graceSeconds: grace)) }
            try tokens.save(to: file.file)
            print(issued.map { "\($0.0)\t\($0.1)" }.joined(separator: "\n"))
        }

        private static func check(_ name: String, role: TokenRole) throws {
            guard !name.isEmpty, name.utf8.count <= 64 else { throw ValidationError("a name must be 1 to 64 bytes (got '\(name.prefix(80))')") }
            if role == .agent, !AgentAuthRequest.isValidHostName(name) {
                throw ValidationError("a host name is 1 to 64 of A-Z a-z 0-9 . _ - (got '\(name)')")
            }
        }

        private static func readNames(_ path: String) throws -> [String] {
            let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
            guard let data else { throw ValidationError("cannot read \(path)") }
            let names = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            let unique = names.filter { !$0.isEmpty }
            guard Set(unique).count == unique.count else { throw ValidationError("\(path) names a host twice") }
            return unique
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove every token of a name at once.")

        @Option(help: "agent, operator or service.")
        var role: TokenRole

        @Option(help: "The host name (agent) or the operator's or service's name.")
        var name: String

        @OptionGroup var file: FileOption

        func run() throws {
            var tokens = try file.load()
            guard tokens.revoke(name: name, role: role) else { throw ValidationError("no \(role.rawValue) token named '\(name)'") }
            try tokens.save(to: file.file)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the names, roles and expiry of the tokens (never the hashes).")

        @OptionGroup var file: FileOption

        func run() throws {
            for entry in try file.load().tokens {
                print("\(entry.role.rawValue)\t\(entry.name)\t\(entry.notAfter.map { "until \($0)" } ?? "current")")
            }
        }
    }
}

extension TokenRole: ExpressibleByArgument {}
