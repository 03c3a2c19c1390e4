/// One child process's counters as it reports them on `/statistics`: its role and every integer
/// field of its statistics struct (`GatewayStatistics`, `WorkerStatistics`) by name, so a counter
/// added there is reported and exported without a change here.
public struct ProcessStatistics: Codable, Sendable, Equatable {
    /// `gateway`, `worker`.
    public var role: String
    /// `messagesIn`: 42, ...
    public var counters: [String: Int]

    /// Fields that are levels (now), not running totals.
    static let gaugeNames: Set<String> = ["clients", "workerLinks", "gatewayLinks", "eventLoopLagMicroseconds"]

    public init(role: String, counters: [String: Int]) {
        self.role = role
        self.counters = counters
    }

    /// Reads every `Int` stored property of `statistics`.
    public init(role: String, reflecting statistics: Any) {
        var counters: [String: Int] = [:]
        for child in Mirror(reflecting: statistics).children {
            if let name = child.label, let value = child.value as? Int { counters[name] = value }
        }
        self.init(role: role, counters: counters)
    }

    /// `messagesIn` -> `datacentered_gateway_messages_in_total`; levels have no `_total`.
    func metricName(_ field: String) -> String {
        var snake = ""
        for character in field {
            if character.isUppercase { snake += "_" }
            snake += character.lowercased()
        }
        return "datacentered_\(role)_\(snake)" + (Self.gaugeNames.contains(field) ? "" : "_total")
    }
}
