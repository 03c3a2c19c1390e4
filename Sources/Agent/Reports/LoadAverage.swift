/// The system's load averages and uptime, from `/proc/loadavg` and `/proc/uptime`.
public enum LoadAverage {
    /// The 1, 5 and 15 minute load averages.
    public static func parse(_ text: String) throws -> [Double] {
        let values = text.split(separator: " ", omittingEmptySubsequences: true).prefix(3).compactMap { Double($0) }
        guard values.count == 3 else { throw ReportError.malformed(file: "loadavg", detail: text) }
        return values
    }

    /// Whole seconds since boot.
    public static func parseUptime(_ text: String) throws -> Int {
        guard let first = text.split(separator: " ").first, let seconds = Double(first) else {
            throw ReportError.malformed(file: "uptime", detail: text)
        }
        return Int(seconds)
    }
}
