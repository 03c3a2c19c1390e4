import DataCenterProtocol

/// When each periodic report of one simulated agent is due next.
struct ReportSchedule {
    enum Kind: CaseIterable {
        case hostInfo, cpu, bandwidth
    }

    private var due: [Kind: ContinuousClock.Instant] = [:]

    /// Each kind first falls due at a random point of its period.
    init(periods: ReportPeriods, now: ContinuousClock.Instant = .now) {
        for kind in Kind.allCases {
            due[kind] = now + Self.period(of: kind, in: periods) * Double.random(in: 0..<1)
        }
    }

    /// The kind due soonest and when.
    func next() -> (Kind, ContinuousClock.Instant) {
        let soonest = due.min { $0.value < $1.value }!
        return (soonest.key, soonest.value)
    }

    /// `kind` was just handled: it falls due again one (possibly new) period later.
    mutating func advance(_ kind: Kind, periods: ReportPeriods) {
        due[kind] = due[kind]! + Self.period(of: kind, in: periods)
    }

    private static func period(of kind: Kind, in periods: ReportPeriods) -> Duration {
        let seconds: Double?
        switch kind {
        case .hostInfo: seconds = periods.hostInfo
        case .cpu: seconds = periods.cpu
        case .bandwidth: seconds = periods.bandwidth
        }
        return .milliseconds(Int64(max(seconds ?? 10, 0.1) * 1000))
    }
}
