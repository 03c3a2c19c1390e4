import Foundation

/// The byte counters of one network interface, from `/proc/net/dev`.
public struct InterfaceCounters: Sendable, Equatable, Codable {
    public var rxBytes: UInt64
    public var txBytes: UInt64

    public init(rxBytes: UInt64, txBytes: UInt64) {
        self.rxBytes = rxBytes
        self.txBytes = txBytes
    }

    /// Parses the text of `/proc/net/dev` into counters by interface name (the two header lines skipped).
    public static func parse(_ text: String) throws -> [String: InterfaceCounters] {
        var counters: [String: InterfaceCounters] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let fields = line[line.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 9, let rx = UInt64(fields[0]), let tx = UInt64(fields[8]) else {
                throw ReportError.malformed(file: "net/dev", detail: "line '\(line)'")
            }
            counters[name] = InterfaceCounters(rxBytes: rx, txBytes: tx)
        }
        return counters
    }
}
