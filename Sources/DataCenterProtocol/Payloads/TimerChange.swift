/// A `timers.add` or `timers.remove` asked while the host's agent was not connected: kept by the
/// central side and applied when the agent connects.
public struct TimerChange: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        case add, remove
    }

    public var change: Kind
    /// The timer's name.
    public var name: String
    /// The timer to add (absent for a removal).
    public var timer: TimerSpec?
    /// Who asked (the operator's name, `service:NAME`).
    public var requestedBy: String
    public var requestedAt: Timestamp

    public static func add(_ timer: TimerSpec, by requester: String, at time: Timestamp = .now) -> TimerChange {
        TimerChange(change: .add, name: timer.name, timer: timer, requestedBy: requester, requestedAt: time)
    }

    public static func remove(_ name: String, by requester: String, at time: Timestamp = .now) -> TimerChange {
        TimerChange(change: .remove, name: name, timer: nil, requestedBy: requester, requestedAt: time)
    }

    /// `timers` as they are once `changes` have been applied in order, sorted by name.
    public static func applying(_ changes: [TimerChange], to timers: [TimerSpec]) -> [TimerSpec] {
        var byName = Dictionary(timers.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        for change in changes {
            byName[change.name] = change.timer
        }
        return byName.values.sorted { $0.name < $1.name }
    }
}

/// The reply to `timers.list`, `timers.add` and `timers.remove`.
public struct HostTimersReply: Codable, Sendable, Hashable {
    /// The host's timers once its pending changes are applied, sorted by name.
    public var timers: [TimerSpec]
    /// Changes asked while the host was offline that its agent has not applied yet, oldest first
    /// (absent when there are none).
    public var pending: [TimerChange]?
    /// True when this request's change was queued, not applied: the host is offline.
    public var queued: Bool?

    public init(timers: [TimerSpec], pending: [TimerChange] = [], queued: Bool = false) {
        self.timers = timers
        self.pending = pending.isEmpty ? nil : pending
        self.queued = queued ? true : nil
    }
}
