import DataCenterProtocol
import Foundation
import Registry

/// Operator requests that an agent answers (`timers.*`, `jobs.running`), while they wait for the agent's reply.
///
/// The worker that takes the operator's request sends it on to the agent under a relay id and does
/// not wait: the agent's reply may reach any worker, which finds here whom to answer. Every pending
/// request of a host is in one memcached item; its entries are answered `not_online` when the host
/// goes offline or its agent connects again before it replied, so no request is left without an answer.
struct AgentRequestRelay: Sendable {
    /// One operator request waiting for an agent's reply.
    struct Pending: Codable, Sendable, Hashable {
        /// The id the agent's reply names (`relay:` and 16 hex digits).
        var relayID: String
        /// The operator's connection and its request id.
        var client: String
        var re: String
        var operation: OperationName
        /// The timer of a `timers.add` / the name of a `timers.remove`.
        var timer: TimerSpec?
        var timerName: String?
    }

    let data: GlobalData

    static let relayPrefix = "relay:"
    /// Pending requests are dropped after this long even if nothing answered them (seconds).
    private static let expiration = 600
    private static func key(_ host: String) -> String { "dc.host:\(host):relayed" }

    /// A new relay id.
    static func newRelayID() -> String {
        relayPrefix + String(format: "%016llx", UInt64.random(in: .min ... .max))
    }

    func add(_ pending: Pending, host: String) async throws {
        _ = try await data.update(Self.key(host), as: [Pending].self, expiration: Self.expiration) { ($0 ?? []) + [pending] }
    }

    /// Removes and returns the request waiting under `relayID`; nil when none is (answered already).
    func take(_ relayID: String, host: String) async throws -> Pending? {
        var taken: Pending?
        _ = try await data.update(Self.key(host), as: [Pending].self, expiration: Self.expiration) { entries in
            var entries = entries ?? []
            taken = entries.firstIndex { $0.relayID == relayID }.map { entries.remove(at: $0) }
            return entries
        }
        return taken
    }

    /// Removes and returns every request waiting for `host`'s agent.
    func takeAll(host: String) async throws -> [Pending] {
        guard try await data.get(Self.key(host)) != nil else { return [] }
        var taken: [Pending] = []
        _ = try await data.update(Self.key(host), as: [Pending].self, expiration: Self.expiration) { entries in
            taken = entries ?? []
            return []
        }
        return taken
    }
}
