import NIOConcurrencyHelpers
import NIOCore
import Wire

/// The worker links of this gateway process and the choice of one for a client's events, by the
/// configured ``WorkerRouting``; it counts the clients stuck to each link for least-connections.
///
/// A client with no link to go to waits with ``pickOrWait(_:)``; the next link to come up wakes it.
final class WorkerLinkTable: Sendable {
    let routing: WorkerRouting
    private let state = NIOLockedValueBox(State())

    private struct State {
        var links: [WorkerLink] = []
        var clientsByLink: [ObjectIdentifier: Int] = [:]
        var nextPick = 0
        var nextID = 1
        var waiters: [@Sendable () -> Void] = []
    }

    init(routing: WorkerRouting) {
        self.routing = routing
    }

    /// A fresh id for a link being authenticated.
    func makeLinkID() -> Int {
        state.withLockedValue { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    /// Lists an authenticated link and wakes every client waiting for one.
    func add(_ link: WorkerLink) {
        let waiters = state.withLockedValue { state in
            state.links.append(link)
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for wake in waiters { wake() }
    }

    func remove(_ link: WorkerLink) {
        state.withLockedValue { state in
            state.links.removeAll { $0 === link }
            state.clientsByLink[ObjectIdentifier(link)] = nil
        }
    }

    /// A client stuck to `link` is gone.
    func detach(_ link: WorkerLink) {
        state.withLockedValue { state in
            guard let count = state.clientsByLink[ObjectIdentifier(link)] else { return }
            state.clientsByLink[ObjectIdentifier(link)] = max(0, count - 1)
        }
    }

    /// Workers linked: their links on loop 0, the registered port, which each has one of.
    var workerCount: Int { state.withLockedValue { $0.links.filter { $0.lane == 0 }.count } }

    /// Client events the links hold until their workers acknowledge them, for the statistics.
    var heldEventCount: Int { state.withLockedValue { $0.links }.reduce(0) { $0 + $1.heldEventCount } }

    /// Sends `frame` once to every worker, for Channel events: on its link of loop 0, which every
    /// worker has (the registered port); returns the links that were skipped because their worker
    /// does not read.
    func relay(_ frame: GatewayFrame) -> [WorkerLink] {
        state.withLockedValue({ $0.links }).filter { $0.lane == 0 && !$0.relay(frame) }
    }

    /// A live link chosen by the routing among those on `loop`, the client's own, or among all when
    /// none is (and, unless random, counted as holding one more client); or nil after registering
    /// `wake` to run once a link is added.
    func pickOrWait(near loop: EventLoop, _ wake: @escaping @Sendable () -> Void) -> WorkerLink? {
        state.withLockedValue { state in
            let routable = state.links.filter(\.isRoutable)
            let local = routable.filter { $0.channel.eventLoop === loop }
            let live = local.isEmpty ? routable : local
            guard !live.isEmpty else {
                state.waiters.append(wake)
                return nil
            }
            let chosen: WorkerLink
            switch routing {
            case .sticky:
                chosen = live[state.nextPick % live.count]
                state.nextPick &+= 1
            case .leastConnections:
                chosen = live.min { state.clientsByLink[ObjectIdentifier($0), default: 0] < state.clientsByLink[ObjectIdentifier($1), default: 0] }!
            case .random:
                return live.randomElement()!
            }
            state.clientsByLink[ObjectIdentifier(chosen), default: 0] += 1
            return chosen
        }
    }
}
