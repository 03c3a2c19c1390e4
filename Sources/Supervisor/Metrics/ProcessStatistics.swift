import ClusterLogging

/// One child process's counters as it reports them on `/statistics`: its role and every counter of
/// its statistics struct (`GatewayStatistics`, `WorkerStatistics`) by name, so a counter added there
/// is reported and exported without a change here. A labelled one (`closesSentByCode`) is exported
/// as one counter with a label (`closes_sent_total{code="1000"}`).
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

    /// Reads every counter of `statistics` (see ``StatisticsFields``).
    public init(role: String, reflecting statistics: Any) {
        let fields = StatisticsFields(reflecting: statistics)
        self.init(
            role: role,
            counters: Dictionary(fields.counters, uniquingKeysWith: { $1 }),
            labelledCounters: Dictionary(fields.labelled, uniquingKeysWith: { $1 })
        )
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
        "datacentered_\(role)_\(field.snakeCased)" + (Self.gaugeNames.contains(field) ? "" : "_total")
    }

    /// `closesSentByCode` -> (`datacentered_gateway_closes_sent_total`, `code`).
    func labelledMetric(_ field: String) -> (name: String, label: String) {
        let (counter, label) = StatisticsFields.split(labelled: field)
        return (metricName(counter), label)
    }
}
