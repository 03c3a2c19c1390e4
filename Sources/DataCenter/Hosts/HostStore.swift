import DataCenterProtocol
import Foundation
import Registry

/// Hosts in memcached: every host's presence (online or not) and latest report of each section, its
/// agent's allow-list and timers, and the list of host names, so that any worker answers about any host.
///
/// A host's state is spread over one item per report section (`dc.host:<host>:cpu`, ...) and one for its
/// presence (`dc.host:<host>`, a `HostState` written on connect and disconnect only), so a report is
/// one plain write of its own section, with no read of the rest, and reading a state is one multi-get
/// of its items: the presence item with the sections over it. Before reports had items of their own,
/// the presence item held the whole state; such an item still reads, its reports replaced as new ones come.
struct HostStore: Sendable {
    let data: GlobalData

    /// The list of hosts and the list of online hosts are each spread over this many memcached items by
    /// a hash of the host name, so an authentication or a host going offline rewrites a list of a few
    /// dozen names rather than one of the whole fleet, and workers seldom race on the same item.
    private static let index = SpreadKeys(prefix: "dc.hosts", count: 64)
    private static let online = SpreadKeys(prefix: "dc.hosts.online", count: 64)
    private static func presenceKey(_ host: String) -> String { "dc.host:\(host)" }
    private static func reportKey(_ host: String, _ section: HostReport.Section) -> String { "dc.host:\(host):\(section.rawValue)" }
    private static func actionsKey(_ host: String) -> String { "dc.host:\(host):actions" }
    private static func timersKey(_ host: String) -> String { "dc.host:\(host):timers" }

    /// The names in every item of a spread list, sorted.
    private func allNames(_ list: SpreadKeys) async throws -> [String] {
        try await data.get(list.allKeys, as: [String].self).flatMap { $0 }.sorted()
    }

    /// Every host that ever authenticated, sorted.
    func hostNames() async throws -> [String] {
        try await allNames(Self.index)
    }

    func state(of host: String) async throws -> HostState? {
        try await states(of: [host]).first
    }

    /// The states of `hosts` in one round trip; hosts that were never online are left out.
    func states(of hosts: [String]) async throws -> [HostState] {
        let sections = HostReport.Section.allCases
        let found = try await data.client.getMany(hosts.flatMap { host in
            [data.storageKey(Self.presenceKey(host))] + sections.map { data.storageKey(Self.reportKey(host, $0)) }
        })
        return try hosts.compactMap { host in
            guard let presence = found[data.storageKey(Self.presenceKey(host))] else { return nil }
            var state = try JSONDecoder().decode(HostState.self, from: Data(presence))
            for section in sections {
                guard let item = found[data.storageKey(Self.reportKey(host, section))], let stored = StoredReport(item) else { continue }
                try HostReport(section, decoding: stored.report).apply(to: &state)
                state.lastReportAt = max(state.lastReportAt ?? stored.at, stored.at)
            }
            return state
        }
    }

    /// The latest report of `section` as `HostReport.encoded()` wrote it, or nil.
    func report(_ section: HostReport.Section, of host: String) async throws -> ArraySlice<UInt8>? {
        try await data.get(Self.reportKey(host, section)).flatMap(StoredReport.init)?.report
    }

    /// Replaces the host's report of `section` with one plain write: nothing else of its state is read or written.
    /// - Parameter time: when it reported, as `Timestamp.description` writes it.
    func setReport(_ encoded: [UInt8], _ section: HostReport.Section, of host: String, at time: String) async throws {
        try await data.set(Self.reportKey(host, section), StoredReport.bytes(encoded, at: time))
    }

    /// Marks the host online or offline with one compare-and-swap write and, when that changes it,
    /// updates the list of online hosts (connects and disconnects only).
    /// - Returns: whether it was online before.
    func setOnline(_ online: Bool, of host: String) async throws -> Bool {
        var before = false
        _ = try await data.update(Self.presenceKey(host), as: HostState.self) { current in
            var state = current ?? HostState(host: host)
            before = state.online
            state.online = online
            return state
        }
        if before != online {
            _ = try await data.update(Self.online.key(for: host), as: [String].self) { hosts in
                let others = (hosts ?? []).filter { $0 != host }
                return online ? others + [host] : others
            }
        }
        return before
    }

    /// The hosts marked online, so the sweep checks those without reading every host's state.
    func onlineHostNames() async throws -> [String] {
        try await allNames(Self.online)
    }

    /// Records an agent's allow-list and adds its host to the list of hosts if it is new.
    func register(_ host: String, actions: [ActionSpec]) async throws {
        try await data.set(Self.actionsKey(host), json: actions)
        let key = Self.index.key(for: host)
        if try await data.get(key, as: [String].self)?.contains(host) == true { return }
        _ = try await data.update(key, as: [String].self) { names in
            Array(Set((names ?? []) + [host])).sorted()
        }
    }

    /// What the host's agent allows, as it said when it last authenticated; nil for an unknown host.
    func actions(of host: String) async throws -> [ActionSpec]? {
        try await data.get(Self.actionsKey(host), as: [ActionSpec].self)
    }

    /// The allow-lists of those of `hosts` that are known, by host, in one round trip.
    func actions(of hosts: [String]) async throws -> [String: [ActionSpec]] {
        let found = try await data.client.getMany(hosts.map { data.storageKey(Self.actionsKey($0)) })
        // Hosts of a fleet mostly share one allow-list: each distinct one is decoded once.
        var decoded: [[UInt8]: [ActionSpec]] = [:]
        var actions: [String: [ActionSpec]] = [:]
        for host in hosts {
            guard let bytes = found[data.storageKey(Self.actionsKey(host))] else { continue }
            if decoded[bytes] == nil { decoded[bytes] = try JSONDecoder().decode([ActionSpec].self, from: Data(bytes)) }
            actions[host] = decoded[bytes]
        }
        return actions
    }

    /// The timers on the host's agent, as it last said (at its connect, or answering a `timers.*`).
    func timers(of host: String) async throws -> [TimerSpec] {
        try await data.get(Self.timersKey(host), as: [TimerSpec].self) ?? []
    }

    func setTimers(_ timers: [TimerSpec], of host: String) async throws {
        try await data.set(Self.timersKey(host), json: timers)
    }

    /// Replaces the host's timers by `change(current)` with compare-and-swap, retried a bounded number
    /// of times, so that two workers recording answers of one agent at once both count.
    /// - Returns: the timers stored.
    func updateTimers(of host: String, _ change: ([TimerSpec]) throws -> [TimerSpec]) async throws -> [TimerSpec] {
        try await data.update(Self.timersKey(host), as: [TimerSpec].self) { try change($0 ?? []) }
    }
}

/// A report section's memcached item: the time the report came, a newline, the report's JSON. The
/// report's bytes can be compared with a new report's without decoding either.
private struct StoredReport {
    let at: Timestamp
    let report: ArraySlice<UInt8>

    /// Reads an item; nil when it is not one.
    init?(_ item: [UInt8]) {
        guard let newline = item.firstIndex(of: UInt8(ascii: "\n")), let at = Timestamp(String(decoding: item[..<newline], as: UTF8.self)) else {
            return nil
        }
        self.at = at
        self.report = item[(newline + 1)...]
    }

    static func bytes(_ report: [UInt8], at time: String) -> [UInt8] {
        Array(time.utf8) + [UInt8(ascii: "\n")] + report
    }
}
