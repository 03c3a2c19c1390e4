/// One line of `/proc/stat` (`cpu` or `cpuN`): jiffies spent in each state since boot.
public struct CPUTimes: Sendable, Equatable, Codable {
    public var user: UInt64
    public var nice: UInt64
    public var system: UInt64
    public var idle: UInt64
    public var ioWait: UInt64
    public var irq: UInt64
    public var softIRQ: UInt64
    public var steal: UInt64

    public init(user: UInt64 = 0, nice: UInt64 = 0, system: UInt64 = 0, idle: UInt64 = 0, ioWait: UInt64 = 0, irq: UInt64 = 0, softIRQ: UInt64 = 0, steal: UInt64 = 0) {
        self.user = user
        self.nice = nice
        self.system = system
        self.idle = idle
        self.ioWait = ioWait
        self.irq = irq
        self.softIRQ = softIRQ
        self.steal = steal
    }

    /// Guest time is already counted in user and nice, so it is left out of the total.
    var total: UInt64 { user + nice + system + idle + ioWait + irq + softIRQ + steal }
    var idleAll: UInt64 { idle + ioWait }

    /// Percent of the time between `earlier` and `self` spent busy (not idle, not waiting for I/O).
    public func busyPercent(since earlier: CPUTimes) -> Double {
        let elapsed = Self.delta(total, earlier.total)
        guard elapsed > 0 else { return 0 }
        let idleDelta = Self.delta(idleAll, earlier.idleAll)
        return Self.percent(elapsed - min(idleDelta, elapsed), of: elapsed)
    }

    /// Percent of the time between `earlier` and `self` spent waiting for I/O.
    public func ioWaitPercent(since earlier: CPUTimes) -> Double {
        let elapsed = Self.delta(total, earlier.total)
        guard elapsed > 0 else { return 0 }
        return Self.percent(min(Self.delta(ioWait, earlier.ioWait), elapsed), of: elapsed)
    }

    /// A counter that went backwards (a CPU brought back online, iowait's known jitter) counts as no progress.
    private static func delta(_ now: UInt64, _ before: UInt64) -> UInt64 {
        now >= before ? now - before : 0
    }

    private static func percent(_ part: UInt64, of whole: UInt64) -> Double {
        (Double(part) * 1000 / Double(whole)).rounded() / 10
    }
}

/// The CPU lines of `/proc/stat`: the total over all CPUs and one per core, in core order.
public struct CPUStat: Sendable, Equatable, Codable {
    public var total: CPUTimes
    public var cores: [CPUTimes]

    public init(total: CPUTimes, cores: [CPUTimes]) {
        self.total = total
        self.cores = cores
    }

    /// Parses the text of `/proc/stat`.
    public static func parse(_ text: String) throws -> CPUStat {
        var total: CPUTimes?
        var cores: [(Int, CPUTimes)] = []
        for line in text.split(separator: "\n") where line.hasPrefix("cpu") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let values = fields.dropFirst().map { UInt64($0) }
            guard values.count >= 4, values.allSatisfy({ $0 != nil }) else {
                throw ReportError.malformed(file: "stat", detail: "cpu line '\(line)'")
            }
            let numbers = values.map { $0! } + Array(repeating: 0, count: max(0, 8 - values.count))
            let times = CPUTimes(
                user: numbers[0], nice: numbers[1], system: numbers[2], idle: numbers[3],
                ioWait: numbers[4], irq: numbers[5], softIRQ: numbers[6], steal: numbers[7]
            )
            let name = fields[0]
            if name == "cpu" {
                total = times
            } else if let index = Int(name.dropFirst(3)) {
                cores.append((index, times))
            }
        }
        guard let total else { throw ReportError.malformed(file: "stat", detail: "no cpu line") }
        return CPUStat(total: total, cores: cores.sorted { $0.0 < $1.0 }.map(\.1))
    }
}
