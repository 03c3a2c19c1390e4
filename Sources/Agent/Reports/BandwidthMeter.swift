import Foundation

/// One interface's counters and its rates since the previous sample.
public struct InterfaceBandwidth: Sendable, Equatable {
    public var name: String
    public var rxBytes: UInt64
    public var txBytes: UInt64
    /// Bytes per second; nil on the first sample, when there is nothing to compare with.
    public var rxRate: Double?
    public var txRate: Double?
}

/// Turns successive `/proc/net/dev` samples into rates. The previous sample is kept in a state file,
/// so the first report after an agent restart still has rates (over the time it was down).
public struct BandwidthMeter: Sendable {
    struct Sample: Codable, Equatable {
        var takenAt: Double
        var counters: [String: InterfaceCounters]
    }

    private let stateFile: String?
    private var previous: Sample?

    /// - Parameter stateFile: where the last sample is kept; nil keeps it in memory only.
    public init(stateFile: String?) {
        self.stateFile = stateFile
        if let stateFile, let data = FileManager.default.contents(atPath: stateFile) {
            previous = try? JSONDecoder().decode(Sample.self, from: data)
        }
    }

    /// Records `counters` taken at `now` (seconds since 1970) and returns every interface with its
    /// rates since the previous sample. A counter lower than before was reset (a reboot, a driver
    /// reload, an interface re-created): its rate counts from zero.
    public mutating func record(_ counters: [String: InterfaceCounters], at now: Double) -> [InterfaceBandwidth] {
        let sample = Sample(takenAt: now, counters: counters)
        defer {
            previous = sample
            save(sample)
        }
        let elapsed = previous.map { now - $0.takenAt } ?? 0
        return counters.keys.sorted().map { name in
            let current = counters[name]!
            var bandwidth = InterfaceBandwidth(name: name, rxBytes: current.rxBytes, txBytes: current.txBytes)
            if elapsed > 0, let before = previous?.counters[name] {
                bandwidth.rxRate = Self.rate(current.rxBytes, before.rxBytes, elapsed)
                bandwidth.txRate = Self.rate(current.txBytes, before.txBytes, elapsed)
            }
            return bandwidth
        }
    }

    private static func rate(_ now: UInt64, _ before: UInt64, _ elapsed: Double) -> Double {
        let delta = now >= before ? now - before : now
        return (Double(delta) / elapsed * 10).rounded() / 10
    }

    private func save(_ sample: Sample) {
        guard let stateFile, let data = try? JSONEncoder().encode(sample) else { return }
        try? data.write(to: URL(fileURLWithPath: stateFile), options: .atomic)
    }
}
