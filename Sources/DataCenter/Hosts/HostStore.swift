import DataCenterProtocol
import Foundation
import Registry

/// Hosts in memcached: every host's latest `HostState`, its agent's allow-list and timers, and the list of host names,
/// so that any worker answers about any host.
struct HostStore: Sendable {
    let data: GlobalData

    /// The list of hosts and the list of online hosts are each spread over this many memcached items by
    /// a hash of the host name, so an authentication or a host going offline rewrites a list of a few
    /// dozen names rather than one of the whole fleet, and workers seldom race on the same item.
    private static let index = SpreadKeys(prefix: "dc.hosts", count: 64)
    private static let online = SpreadKeys(prefix: "dc.hosts.online", count: 64)
    private static func stateKey(_ host: String) -> String { "dc.host:\(host)" }
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
        try await data.get(Self.stateKey(host), as: HostState.self)
    }

    /// The states of `hosts` in one round trip; hosts without one are left out.
    func states(of hosts: [String]) async throws -> [HostState] {
        try await data.get(hosts.map(Self.stateKey), as: HostState.self)
    }

    /// Changes a host's state with one compare-and-swap write (retried only when another process wrote
    /// in between), and returns the state before and after. A change of `online` also updates the
    /// list of online hosts (a second write, on connects and disconnects only).
    func update(_ host: String, _ change: (inout HostState) -> Void) async throws -> (before: HostState, after: HostState) {
        var before = HostState(host: host)
        let after = try await data.update(Self.stateKey(host), as: HostState.self) { current in
            before = current ?? HostState(host: host)
            var state = before
            change(&state)
            return state
        }
        if before.online != after.online {
            _ = try await data.update(Self.online.key(for: host), as: [String].self) { hosts in
                let others = (hosts ?? []).filter { $0 != host }
                return after.online ? others + [host] : others
            }
        }
        return (before, after)
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
}
