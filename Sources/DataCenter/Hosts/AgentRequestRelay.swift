import DataCenterProtocol
import Foundation
import Registry

/// Operator requests that an agent answers (`timers.*`, `jobs.running`), while they wait for the agent's reply.
///
/// The worker that takes the operator's request sends it on to the agent under a relay id and does
/// not wait: the agent's reply may reach any worker, which finds here whom to answer. Every pending
/// request of every host is in one memcached item (they are few: operators' requests, not reports);
/// an entry is answered `not_online` when its host goes offline or its agent connects again before it
/// replied, and `timeout` by the sweep once its deadline has passed, so no request is left without an answer.
/// A queued timer change being delivered at connect is such an entry too, with nobody to answer: it is
/// put back in the queue instead.
struct AgentRequestRelay: Sendable {
    /// One operator request waiting for an agent's reply.
    struct Pending: Codable, Sendable, Hashable {
        /// The id the agent's reply names (`relay:` and 16 hex digits).
        var relayID: String
        /// The host whose agent was asked.
        var host: String
        /// When the sweep answers it `timeout` if the agent has not replied.
        var deadline: Timestamp
        /// The operator's connection and its request id; nil for a queued timer change, which nobody waits for.
        var client: String?
        var re: String?
        var operation: OperationName
        /// The timer of a `timers.add` / the name of a `timers.remove`.
        var timer: TimerSpec?
        var timerName: String?
        /// The queued change this request delivers.
        var queuedChange: TimerChange?
    }

    let data: GlobalData

    static let relayPrefix = "relay:"
    /// More requests waiting at once than this are refused with `busy` (the item must stay far below 1 MiB).
    static let capacity = 1000
    /// Pending requests are dropped after this long even if no sweep answered them (seconds).
    private static let expiration = 600
    private static let key = "dc.relayed"

    /// A new relay id.
    static func newRelayID() -> String {
        relayPrefix + String(format: "%016llx", UInt64.random(in: .min ... .max))
    }

    /// - Throws: `busy` when ``capacity`` requests are already waiting.
    func add(_ pending: Pending) async throws {
        _ = try await data.update(Self.key, as: [Pending].self, expiration: Self.expiration) { entries in
            let entries = entries ?? []
            guard entries.count < Self.capacity else {
                throw ProtocolError(.busy, "\(Self.capacity) requests already wait for agents' answers; retry later")
            }
            return entries + [pending]
        }
    }

    /// Removes and returns the request waiting for `host`'s agent under `relayID`; nil when none is
    /// (answered already).
    func take(_ relayID: String, host: String) async throws -> Pending? {
        try await takeAll { $0.relayID == relayID && $0.host == host }.first
    }

    /// Removes and returns every request waiting for `host`'s agent.
    func takeAll(host: String) async throws -> [Pending] {
        try await takeAll { $0.host == host }
    }

    /// Removes and returns every request whose deadline is before `now`.
    func takeOverdue(now: Timestamp) async throws -> [Pending] {
        try await takeAll { $0.deadline < now }
    }

    /// Reads first, so that the usual case (nothing matches) costs one get and no write.
    private func takeAll(where matches: (Pending) -> Bool) async throws -> [Pending] {
        guard let entries = try await data.get(Self.key, as: [Pending].self), entries.contains(where: matches) else { return [] }
        var taken: [Pending] = []
        _ = try await data.update(Self.key, as: [Pending].self, expiration: Self.expiration) { entries in
            let entries = entries ?? []
            taken = entries.filter(matches)
            return entries.filter { !matches($0) }
        }
        return taken
    }
}
