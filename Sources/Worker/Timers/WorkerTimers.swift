import NIOConcurrencyHelpers

/// Workerman's `Timer` for handlers: run a closure once after a delay or repeatedly, at millisecond
/// resolution, until cancelled. A firing runs in the worker's event order, never at the same time
/// as a handler call (with ``WorkerConfiguration/maxConcurrentEvents`` above 1: never at the same
/// time as another firing, in the order they fired), with the cluster API at hand.
public final class WorkerTimers: Sendable {
    /// Names a timer, for ``cancel(_:)``.
    public struct TimerID: Hashable, Sendable {
        let value: Int
    }

    /// What a timer runs.
    public typealias Body = @Sendable (WorkerContext) async throws -> Void

    private let state = NIOLockedValueBox((nextID: 1, timers: [Int: (task: Task<Void, Never>, repeats: Bool)]()))
    private let fire: @Sendable (TimerID, @escaping Body) -> Void

    /// - Parameter fire: hands a firing to the worker's event order.
    init(fire: @escaping @Sendable (TimerID, @escaping Body) -> Void) {
        self.fire = fire
    }

    /// Runs `body` after `interval`, and every `interval` after that when `repeats` is true.
    @discardableResult
    public func add(after interval: Duration, repeats: Bool = false, _ body: @escaping Body) -> TimerID {
        precondition(interval >= .milliseconds(1), "a timer interval is at least 1 ms")
        return state.withLockedValue { state in
            let id = TimerID(value: state.nextID)
            state.nextID += 1
            let task = Task { [fire] in
                let clock = ContinuousClock()
                var deadline = clock.now + interval
                repeat {
                    do {
                        try await clock.sleep(until: deadline)
                    } catch {
                        return
                    }
                    fire(id, body)
                    deadline += interval
                } while repeats
            }
            state.timers[id.value] = (task, repeats)
            return id
        }
    }

    /// Stops a timer; a firing already handed over does not run.
    public func cancel(_ id: TimerID) {
        state.withLockedValue { $0.timers.removeValue(forKey: id.value) }?.task.cancel()
    }

    /// True while a timer may still fire.
    public func isActive(_ id: TimerID) -> Bool {
        state.withLockedValue { $0.timers[id.value] != nil }
    }

    /// Whether a handed-over firing should run: false when the timer was cancelled since. A one-shot
    /// timer is done once claimed.
    func claimFiring(_ id: TimerID) -> Bool {
        state.withLockedValue { state in
            guard let timer = state.timers[id.value] else { return false }
            if !timer.repeats { state.timers[id.value] = nil }
            return true
        }
    }

    func cancelAll() {
        let timers = state.withLockedValue { state in
            defer { state.timers.removeAll() }
            return Array(state.timers.values)
        }
        for timer in timers { timer.task.cancel() }
    }
}
