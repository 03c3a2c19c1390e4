/// One child process's counters as it reports them on `/statistics`: its role and every integer
/// field of its statistics struct (`GatewayStatistics`, `WorkerStatistics`) by name, so a counter
/// added there is reported and exported without a change here. A `[String: Int]` field named
/// `<counter>By<Label>` (`closesSentByCode`) is one counter split by a label (`code="1000"`).
public struct ProcessStatistics: Codable, Sendable, Equatable {
    /// `gateway`, `worker`.
    public var role: String
    /// `messagesIn`: 42, ...
    public var counters: [String: Int]
    /// `closesSentByCode`: `["1000": 3, "1001": 1]`, ...
    public var labelledCounters: [String: [String: Int]]

    /// Fields that are levels (now), not running totals.
    static let gaugeNames: Set<String> = [
        "clients", "workerLinks", "gatewayLinks", "eventLoopLagMicroseconds", "eventsWaitingForWorker", "eventsUnacknowledged",
    ]

    public init(role: String, counters: [String: Int], labelledCounters: [String: [String: Int]] = [:]) {
        self.role = role
        self.counters = counters
        self.labelledCounters = labelledCounters
    }

    /// Reads every `Int` and `[String: Int]` stored property of `statistics`.
    public init(role: String, reflecting statistics: Any) {
        var counters: [String: Int] = [:]
        var labelledCounters: [String: [String: Int]] = [:]
        for child in Mirror(reflecting: statistics).children {
            guard let name = child.label else { continue }
            if let value = child.value as? Int { counters[name] = value }
            if let values = child.value as? [String: Int] { labelledCounters[name] = values }
        }
        self.init(role: role, counters: counters, labelledCounters: labelledCounters)
    }

    /// A child of another build may not report labelled counters yet.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            role: try container.decode(String.self, forKey: .role),
            counters: try container.decode([String: Int].self, forKey: .counters),
            labelledCounters: try container.decodeIfPresent([String: [String: Int]].self, forKey: .labelledCounters) ?? [:]
        )
    }

    /// `messagesIn` -> `datacentered_gateway_messages_in_total`; levels have no `_total`.
    func metricName(_ field: String) -> String {
        "datacentered_\(role)_\(Self.snakeCase(field))" + (Self.gaugeNames.contains(field) ? "" : "_total")
    }

    /// `closesSentByCode` -> (`datacentered_gateway_closes_sent_total`, `code`).
    func labelledMetric(_ field: String) -> (name: String, label: String) {
        guard let split = field.range(of: "By", options: .backwards), split.upperBound < field.endIndex else {
            return (metricName(field), "key")
        }
        return (metricName(String(field[..<split.lowerBound])), Self.snakeCase(String(field[split.upperBound...])))
    }

    private static func snakeCase(_ field: String) -> String {
        var snake = ""
        for character in field {
            if character.isUppercase, !snake.isEmpty { snake += "_" }
            snake += character.lowercased()
        }
        return snake
    }
}
