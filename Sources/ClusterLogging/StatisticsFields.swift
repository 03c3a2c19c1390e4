/// The counters of a process's statistics struct (`GatewayStatistics`, `WorkerStatistics`), read by
/// name: every `Int` stored property, and every `[String: Int]` property named `<counter>By<Label>`
/// (`closesSentByCode`) as one counter split by a label. A field added to such a struct is logged,
/// reported and exported without a change anywhere else.
public struct StatisticsFields: Sendable {
    /// `(messagesIn, 42)`, in declaration order.
    public var counters: [(name: String, value: Int)] = []
    /// `(closesSentByCode, ["1000": 3])`, in declaration order.
    public var labelled: [(name: String, values: [String: Int])] = []

    public init(reflecting statistics: Any) {
        for child in Mirror(reflecting: statistics).children {
            guard let name = child.label else { continue }
            if let value = child.value as? Int { counters.append((name, value)) }
            if let values = child.value as? [String: Int] { labelled.append((name, values)) }
        }
    }

    /// `closesSentByCode` -> (`closesSent`, `code`).
    public static func split(labelled name: String) -> (counter: String, label: String) {
        guard let by = name.ranges(of: "By").last, by.upperBound < name.endIndex else { return (name, "key") }
        return (String(name[..<by.lowerBound]), String(name[by.upperBound...]).snakeCased)
    }
}
