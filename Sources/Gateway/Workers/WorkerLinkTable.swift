import NIOConcurrencyHelpers
import Wire

/// The worker links of this gateway process and the choice of one for a client's events.
///
/// A client with no link to go to waits with ``pickOrWait(_:)``; the next link to come up wakes it.
final class WorkerLinkTable: Sendable {
    private let state = NIOLockedValueBox(State())

    private struct State {
        var links: [WorkerLink] = []
        var nextPick = 0
        var nextID = 1
        var waiters: [@Sendable () -> Void] = []
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
        state.withLockedValue { $0.links.removeAll { $0 === link } }
    }

    var count: Int { state.withLockedValue { $0.links.count } }

    /// Sends `frame` on every link, for Channel events.
    func relay(_ frame: GatewayFrame) {
        for link in state.withLockedValue({ $0.links }) { link.relay(frame) }
    }

    /// A live link, taken in turn; or nil after registering `wake` to run once a link is added.
    func pickOrWait(_ wake: @escaping @Sendable () -> Void) -> WorkerLink? {
        state.withLockedValue { state in
            let live = state.links.filter(\.isRoutable)
            guard !live.isEmpty else {
                state.waiters.append(wake)
                return nil
            }
            defer { state.nextPick &+= 1 }
            return live[state.nextPick % live.count]
        }
    }
}
