/// A statistics struct that logs itself as one line of `snake_name=value` pairs (a labelled counter
/// as one pair per label value: `closes_sent_1000=3`).
public protocol StatisticsLine: CustomStringConvertible {}

extension StatisticsLine {
    public var description: String {
        let fields = StatisticsFields(reflecting: self)
        let counters = fields.counters.map { "\($0.name.snakeCased)=\($0.value)" }
        let labelled = fields.labelled.flatMap { name, values in
            values.sorted { $0.key < $1.key }.map { "\(StatisticsFields.split(labelled: name).counter.snakeCased)_\($0.key)=\($0.value)" }
        }
        return (counters + labelled).joined(separator: " ")
    }
}
