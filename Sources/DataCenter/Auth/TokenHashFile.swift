import Crypto
import DataCenterProtocol
import Foundation

/// The central side's token file (`--tokens`): the SHA-256 hashes of every host, operator and service
/// token, never the tokens themselves.
///
/// ```json
/// {"tokens":[{"name":"node-7","role":"agent","sha256":"9f86…","createdAt":"…","notAfter":null}]}
/// ```
/// A rotated token keeps its entry with `notAfter` set, so the old token works until then (the grace period).
public struct TokenHashFile: Codable, Sendable, Hashable {
    public var tokens: [TokenEntry]

    public init(tokens: [TokenEntry] = []) {
        self.tokens = tokens
    }

    /// Reads the file at `path`.
    public static func load(from path: String) throws -> TokenHashFile {
        try JSONDecoder().decode(TokenHashFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Writes the file at `path`, readable and writable by its owner only (mode 0600), replacing it atomically.
    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes = try encoder.encode(self)
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw TokenHashFileError("cannot write \(temporary)")
        }
        // createFile's mode is masked by the umask; make sure nobody else can read the hashes.
        guard chmod(temporary, 0o600) == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw TokenHashFileError("cannot replace \(path): \(reason)")
        }
    }

    /// Makes a new random token for `name` in `role`, adds its hash, and returns the token (shown once).
    /// - Parameter graceSeconds: when not nil, the name's earlier tokens keep working this long
    ///   (a rotation); when nil they are removed at once.
    public mutating func issue(name: String, role: TokenRole, graceSeconds: Double?, now: Date = Date()) -> String {
        let token = Self.generateToken()
        let existing = tokens.filter { $0.name == name && $0.role == role }
        tokens.removeAll { $0.name == name && $0.role == role }
        if let graceSeconds {
            let until = Timestamp(now.addingTimeInterval(graceSeconds))
            tokens += existing.map { entry in
                var entry = entry
                entry.notAfter = min(entry.notAfter ?? until, until)
                return entry
            }
        }
        tokens.append(TokenEntry(name: name, role: role, sha256: Self.hash(token), createdAt: Timestamp(now), notAfter: nil))
        return token
    }

    /// Removes every token of `name` in `role`; false when there was none.
    public mutating func revoke(name: String, role: TokenRole) -> Bool {
        let before = tokens.count
        tokens.removeAll { $0.name == name && $0.role == role }
        return tokens.count != before
    }

    /// The SHA-256 of `token` in lower-case hex.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// 32 random bytes from the system's generator, as 64 hex digits after a `dct_` prefix.
    static func generateToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return "dct_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }
}

/// One token's hash and what it is for.
public struct TokenEntry: Codable, Sendable, Hashable {
    /// The host name for an agent token; the operator's or service's name otherwise.
    public var name: String
    public var role: TokenRole
    /// The token's SHA-256, lower-case hex.
    public var sha256: String
    public var createdAt: Timestamp?
    /// After this the token no longer works (set when it was rotated).
    public var notAfter: Timestamp?

    public init(name: String, role: TokenRole, sha256: String, createdAt: Timestamp?, notAfter: Timestamp?) {
        self.name = name
        self.role = role
        self.sha256 = sha256
        self.createdAt = createdAt
        self.notAfter = notAfter
    }
}

/// What a token lets its holder be.
public enum TokenRole: String, Codable, Sendable, Hashable, CaseIterable {
    /// A host agent; the token's name is the host's name.
    case agent
    /// A person at the dashboard.
    case `operator`
    /// A program: scripts, the client library, the text port.
    case service
}

/// The token file cannot be written.
public struct TokenHashFileError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
