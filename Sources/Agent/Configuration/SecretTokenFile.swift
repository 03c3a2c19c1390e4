import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One secret token in plain text (the agent's host token, or the operator token of `datacentered jobs`),
/// from a file that only its owner may read (as ssh insists for private keys).
/// The token itself never appears in an error or a log line.
public enum SecretTokenFile {
    public enum Refusal: Error, CustomStringConvertible, Equatable {
        case unreadable(String)
        case tooOpen(path: String, mode: String)
        case notOwned(String)
        case empty(String)

        public var description: String {
            switch self {
            case .unreadable(let path): return "cannot read the token file \(path)"
            case .tooOpen(let path, let mode): return "token file \(path) has mode \(mode): it must be readable by its owner only (chmod 600)"
            case .notOwned(let path): return "token file \(path) is not owned by the user the agent runs as"
            case .empty(let path): return "token file \(path) is empty"
            }
        }
    }

    /// Reads the token (surrounding whitespace trimmed) after checking that the file is a regular
    /// file owned by this user with no group or other permissions.
    public static func read(_ path: String) throws(Refusal) -> String {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path) }
        guard info.st_mode & 0o077 == 0 else { throw .tooOpen(path: path, mode: String(info.st_mode & 0o777, radix: 8)) }
        guard info.st_uid == geteuid() else { throw .notOwned(path) }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path) }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .empty(path) }
        return token
    }
}
