import Foundation
import NIOCore

/// A small set of files that a gateway serves over plain HTTP GET / HEAD on its public ports (the
/// operator dashboard): request path to bytes and content type, held in memory.
///
/// Only the paths given here exist, so no request can reach any other file (`..` is just an unknown
/// path). `/` serves `/index.html`.
public struct StaticSite: Sendable {
    /// One file: its bytes, its media type, and the validator and caching policy it is served with.
    public struct File: Sendable {
        public let body: ByteBuffer
        public let contentType: String
        /// A strong validator of the bytes (quoted, as sent in `ETag`).
        public let entityTag: String
        public let cacheControl: String

        /// A file with `bytes` served as `contentType`. Pages (`text/html`) are revalidated on every
        /// load (`no-cache`) so a new gateway's page is seen at once; other files may be reused for a
        /// minute, then are revalidated with their `ETag`.
        public init(bytes: some Sequence<UInt8>, contentType: String) {
            body = ByteBuffer(bytes: bytes)
            self.contentType = contentType
            entityTag = "\"\(Self.fingerprint(body.readableBytesView))\""
            cacheControl = contentType.hasPrefix("text/html") ? "no-cache" : "max-age=60"
        }

        /// 64-bit FNV-1a of the bytes, in hex: enough to tell two versions of a file apart.
        private static func fingerprint(_ bytes: ByteBufferView) -> String {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
            return String(hash, radix: 16)
        }
    }

    /// The files by request path (each starting with `/`).
    public let files: [String: File]

    /// A site made of `files`, keyed by request path (`/app.js`).
    public init(files: [String: File]) {
        self.files = files
    }

    /// Every regular, non-hidden file under `directory`, each served at its path relative to it,
    /// with a content type chosen by its extension.
    public init(directory: URL) throws {
        let root = directory.standardizedFileURL.resolvingSymlinksInPath()
        guard
            let enumerator = FileManager.default.enumerator(
                at: root,
                includingPropertiesForKeys: [.isRegularFileKey],
                options: [.skipsHiddenFiles]
            )
        else { throw StaticSiteError.unreadableDirectory(directory.path) }
        var files: [String: File] = [:]
        for case let url as URL in enumerator {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
            let relative = url.resolvingSymlinksInPath().path.dropFirst(root.path.count)
            files["/" + relative.drop(while: { $0 == "/" })] = File(
                bytes: try Data(contentsOf: url),
                contentType: Self.contentType(forExtension: url.pathExtension)
            )
        }
        guard files["/index.html"] != nil else { throw StaticSiteError.noIndex(directory.path) }
        self.files = files
    }

    /// The file a request path names (query and fragment already removed), if the site has it.
    public func file(at path: String) -> File? {
        files[path == "/" ? "/index.html" : path]
    }

    /// The media type served for a file name extension.
    public static func contentType(forExtension pathExtension: String) -> String {
        switch pathExtension.lowercased() {
        case "html", "htm": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "json", "map": return "application/json"
        case "webmanifest": return "application/manifest+json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "woff2": return "font/woff2"
        case "txt": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }
}

/// A directory that cannot be served as a ``StaticSite``.
public enum StaticSiteError: Error, CustomStringConvertible {
    case unreadableDirectory(String)
    case noIndex(String)

    public var description: String {
        switch self {
        case .unreadableDirectory(let path): return "cannot read the site directory \(path)"
        case .noIndex(let path): return "the site directory \(path) has no index.html"
        }
    }
}
