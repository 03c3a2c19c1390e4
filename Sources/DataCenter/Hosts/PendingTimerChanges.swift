import DataCenterProtocol
import Foundation
import Registry

/// Timer changes asked while a host's agent was not connected, in memcached until the agent connects
/// and takes them (DataCenterHandler+Timers), or until they expire.
///
/// A host keeps at most one change per timer name: a later change of a name replaces the earlier one
/// and moves to the end. Timers of different names do not touch each other, so the agent applying
/// the kept changes in any order ends where applying every change in the order asked would.
///
/// A change is dropped ``expirySeconds`` after it was asked: read as absent once it is older, and the
/// item expires in memcached that long after its last write, so a host that never comes back keeps nothing.
struct PendingTimerChanges: Sendable {
    let data: GlobalData
    /// How long a change waits for its host's agent at most (at most 30 days: memcached reads a longer
    /// expiration as a point in time).
    let expirySeconds: Int

    /// Changes of more timers than this waiting for one host are refused with `busy`.
    static let capacity = 100
    private static func key(_ host: String) -> String { "dc.host:\(host):timers.pending" }

    /// The changes waiting for `host`'s agent, oldest first.
    func changes(of host: String) async throws -> [TimerChange] {
        unexpired(try await data.get(Self.key(host), as: [TimerChange].self))
    }

    /// Adds `change` after the others, replacing a waiting change of the same timer.
    /// - Returns: the changes waiting afterwards.
    /// - Throws: `busy` when changes of ``capacity`` other timers wait already.
    func queue(_ change: TimerChange, for host: String) async throws -> [TimerChange] {
        try await update(host) { changes in
            let others = changes.filter { $0.name != change.name }
            guard others.count < Self.capacity else {
                throw ProtocolError(.busy, "changes of \(Self.capacity) timers already wait for host '\(host)'; retry once it is back")
            }
            return others + [change]
        }
    }

    /// Drops the change of timer `name` waiting for `host`'s agent, if any (a change sent to the agent
    /// directly supersedes it). Reads first, so that the usual case (none waits) costs one get.
    func discard(_ name: String, of host: String) async throws {
        guard try await changes(of: host).contains(where: { $0.name == name }) else { return }
        _ = try await update(host) { changes in changes.filter { $0.name != name } }
    }

    /// Removes and returns every change waiting for `host`'s agent: of workers that try at once, one gets them.
    func takeAll(of host: String) async throws -> [TimerChange] {
        guard try await !changes(of: host).isEmpty else { return [] }
        var taken: [TimerChange] = []
        _ = try await update(host) { changes in
            taken = changes
            return []
        }
        return taken
    }

    /// Puts back a change whose delivery failed (the agent left before it answered), first in line,
    /// unless a newer change of the same timer was queued meanwhile.
    func restore(_ change: TimerChange, for host: String) async throws {
        _ = try await update(host) { changes in
            changes.contains { $0.name == change.name } ? changes : unexpired([change]) + changes
        }
    }

    /// Replaces the host's unexpired changes by `transform(them)` with compare-and-swap, the item
    /// expiring ``expirySeconds`` later.
    private func update(_ host: String, _ transform: ([TimerChange]) throws -> [TimerChange]) async throws -> [TimerChange] {
        try await data.update(Self.key(host), as: [TimerChange].self, expiration: expirySeconds) { try transform(unexpired($0)) }
    }

    private func unexpired(_ changes: [TimerChange]?) -> [TimerChange] {
        let oldest = Timestamp.now.adding(seconds: -Double(expirySeconds))
        return (changes ?? []).filter { $0.requestedAt > oldest }
    }
}
