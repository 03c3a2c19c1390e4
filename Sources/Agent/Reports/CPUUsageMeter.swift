/// CPU usage between two reads of `/proc/stat`: total and per core, in percent busy.
public struct CPUUsage: Sendable, Equatable {
    public var total: Double
    public var cores: [Double]
    public var ioWaitPercent: Double
}

/// Turns successive `/proc/stat` samples into usage over the time between them.
public struct CPUUsageMeter: Sendable {
    private var previous: CPUStat?

    public init(previous: CPUStat? = nil) {
        self.previous = previous
    }

    /// Takes a new sample; the usage since the previous one, or nil for the first sample (or when the
    /// number of cores changed, as after a CPU hot-plug, where per-core deltas mean nothing).
    public mutating func record(_ sample: CPUStat) -> CPUUsage? {
        defer { previous = sample }
        guard let previous, previous.cores.count == sample.cores.count else { return nil }
        return CPUUsage(
            total: sample.total.busyPercent(since: previous.total),
            cores: zip(sample.cores, previous.cores).map { $0.busyPercent(since: $1) },
            ioWaitPercent: sample.total.ioWaitPercent(since: previous.total)
        )
    }
}
