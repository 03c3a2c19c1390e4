/// The memory figures of `/proc/meminfo` the host report needs, in bytes.
public struct MemoryInfo: Sendable, Equatable {
    public var total: UInt64
    public var available: UInt64

    /// Parses the text of `/proc/meminfo` (values in kB). Kernels before 3.14 have no `MemAvailable`:
    /// free + buffers + cached is the usual stand-in there.
    public static func parse(_ text: String) throws -> MemoryInfo {
        var kilobytes: [Substring: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[0].hasSuffix(":"), let value = UInt64(fields[1]) else { continue }
            kilobytes[fields[0].dropLast()] = value
        }
        guard let total = kilobytes["MemTotal"] else {
            throw ReportError.malformed(file: "meminfo", detail: "no MemTotal")
        }
        let available = kilobytes["MemAvailable"]
            ?? (kilobytes["MemFree"] ?? 0) + (kilobytes["Buffers"] ?? 0) + (kilobytes["Cached"] ?? 0)
        return MemoryInfo(total: total * 1024, available: available * 1024)
    }
}
