import NIOConcurrencyHelpers
import NIOCore

/// What a test client received and has not read yet, and how its connection ended, with at most
/// one waiting reader and bounded waits.
final class TestInbox<Item: Sendable, Ending: Sendable>: Sendable {
    /// The next thing a reader gets.
    enum Next {
        case item(Item)
        /// The connection ended and every item was read.
        case ended(Ending)
    }

    /// Nothing came within the time given.
    struct TimedOut: Error, CustomStringConvertible {
        let timeout: TimeAmount
        var description: String { "nothing received within \(timeout)" }
    }

    private let state = NIOLockedValueBox(State())

    private struct State {
        var items: [Item] = []
        var ending: Ending?
        var waiter: CheckedContinuation<Void, Never>?
    }

    func deliver(_ item: Item) {
        wake { $0.items.append(item) }
    }

    /// Records how the connection ended; the first ending counts.
    func end(_ ending: Ending) {
        wake { $0.ending = $0.ending ?? ending }
    }

    func next(timeout: TimeAmount, on loop: EventLoop) async throws -> Next {
        try await wait(timeout: timeout, on: loop) { state in
            if !state.items.isEmpty { return .item(state.items.removeFirst()) }
            return state.ending.map(Next.ended)
        }
    }

    /// Waits until the connection ends, whatever was left unread.
    func ending(timeout: TimeAmount, on loop: EventLoop) async throws -> Ending {
        try await wait(timeout: timeout, on: loop) { $0.ending }
    }

    private func wake(_ change: (inout State) -> Void) {
        let waiter = state.withLockedValue { state in
            change(&state)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Re-checks `ready` after every change until it gives a result or `timeout` passes.
    private func wait<T>(timeout: TimeAmount, on loop: EventLoop, _ ready: (inout State) -> T?) async throws -> T {
        let deadline = NIODeadline.now() + timeout
        while true {
            if let result = state.withLockedValue({ ready(&$0) }) { return result }
            guard NIODeadline.now() < deadline else { throw TimedOut(timeout: timeout) }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let installed = state.withLockedValue { state -> Bool in
                    // Something may have arrived since the check above.
                    guard state.items.isEmpty, state.ending == nil, state.waiter == nil else { return false }
                    state.waiter = continuation
                    return true
                }
                guard installed else {
                    continuation.resume()
                    return
                }
                loop.scheduleTask(deadline: deadline) { self.wake { _ in } }
            }
        }
    }
}
