import Foundation

/// Where the collectors read the system from: the real `/proc`, `/sys` and `/etc` by default, a
/// fixture tree in tests (node_exporter's `--path.procfs` / `--path.sysfs`).
public struct SystemPaths: Sendable, Equatable, Codable {
    public var proc: String
    public var sys: String
    public var etc: String

    public init(proc: String = "/proc", sys: String = "/sys", etc: String = "/etc") {
        self.proc = proc
        self.sys = sys
        self.etc = etc
    }

    /// The text of `relative` under `/proc`.
    func readProc(_ relative: String) throws -> String {
        try Self.read("\(proc)/\(relative)")
    }

    /// The text of `relative` under `/etc`.
    func readEtc(_ relative: String) throws -> String {
        try Self.read("\(etc)/\(relative)")
    }

    static func read(_ path: String) throws -> String {
        // /proc files report size 0, so read them as a stream rather than by their stated length.
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ReportError.unreadable(path) }
        defer { try? handle.close() }
        let data = try handle.readToEnd() ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A report that could not be collected.
public enum ReportError: Error, CustomStringConvertible, Equatable {
    case unreadable(String)
    case malformed(file: String, detail: String)

    public var description: String {
        switch self {
        case .unreadable(let path): return "cannot read \(path)"
        case .malformed(let file, let detail): return "unexpected content in \(file): \(detail)"
        }
    }
}
