import Crypto
import DataCenterProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Checks presented tokens against the token file, re-reading the file whenever it changes
/// (an operator issues or rotates a token without restarting the workers).
///
/// Tokens are hashed with SHA-256 and the digests compared in constant time; neither a token nor a
/// hash is ever logged.
public final class TokenVerifier: Sendable {
    private struct Loaded {
        var stamp: FileStamp?
        var entries: [(entry: TokenEntry, digest: [UInt8])] = []
        var reportedMissing = false
    }

    /// What identifies one version of the file without reading it.
    private struct FileStamp: Equatable {
        let inode: UInt64
        let size: Int64
        let modified: timespec

        static func == (lhs: FileStamp, rhs: FileStamp) -> Bool {
            lhs.inode == rhs.inode && lhs.size == rhs.size && lhs.modified.tv_sec == rhs.modified.tv_sec
                && lhs.modified.tv_nsec == rhs.modified.tv_nsec
        }
    }

    public let path: String
    private let logger: Logger
    private let loaded = NIOLockedValueBox(Loaded())

    public init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// True when `token` is a current agent token of `host`.
    public func verifyAgent(host: String, token: String, now: Date = Date()) -> Bool {
        match(token, now: now) { $0.role == .agent && $0.name == host } != nil
    }

    /// The operator or service that `token` belongs to, or nil.
    public func verifyOperator(token: String, now: Date = Date()) -> TokenEntry? {
        match(token, now: now) { $0.role == .operator || $0.role == .service }
    }

    private func match(_ token: String, now: Date, where accepts: (TokenEntry) -> Bool) -> TokenEntry? {
        let presented = SHA256.hash(data: Data(token.utf8))
        var found: TokenEntry?
        // Every candidate is compared, so the time taken does not tell which entry matched.
        for candidate in currentEntries() where accepts(candidate.entry) {
            let current = candidate.entry.notAfter.map { $0.date > now } ?? true
            if presented == candidate.digest, current, found == nil { found = candidate.entry }
        }
        return found
    }

    private func currentEntries() -> [(entry: TokenEntry, digest: [UInt8])] {
        let stamp = Self.stamp(of: path)
        return loaded.withLockedValue { loaded in
            guard let stamp else {
                if !loaded.reportedMissing {
                    logger.warning("token file missing: every authentication fails", metadata: ["path": "\(path)"])
                    loaded.reportedMissing = true
                }
                loaded.stamp = nil
                loaded.entries = []
                return []
            }
            guard stamp != loaded.stamp else { return loaded.entries }
            loaded.stamp = stamp
            loaded.reportedMissing = false
            do {
                let file = try TokenHashFile.load(from: path)
                loaded.entries = file.tokens.compactMap { entry in Self.bytes(hex: entry.sha256).map { (entry, $0) } }
                logger.notice("token file read", metadata: ["path": "\(path)", "tokens": "\(loaded.entries.count)"])
            } catch {
                // Keep the tokens read before: a half-written file must not lock everyone out.
                logger.error("token file unreadable, keeping the tokens read before", metadata: ["path": "\(path)", "error": "\(error)"])
            }
            return loaded.entries
        }
    }

    private static func stamp(of path: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileStamp(inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim)
    }

    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
