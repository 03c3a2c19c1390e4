import NIOCore

/// Runs the handler on what the worker receives (client events, timers, Channel events) one at a
/// time, in arrival order, on the worker's event loop.
///
/// An item that arrives while nothing runs starts at once, inside the read that brought it
/// (`Task.immediate` on the loop): a handler that does not suspend (one that only queues replies)
/// runs to its end with no stream, no task switch and no extra loop tick, and its replies leave with
/// this tick's flush. Items that arrive while one runs (it suspended, or it is still running) wait
/// here, and the running task takes them in order: the order holds whatever the handler awaits.
/// Items that arrive before ``start(handling:)`` wait for it.
final class WorkerDispatcher: Sendable {
    typealias Handle = @Sendable (WorkerEvent) async -> Void

    private let executor: EventLoopTaskExecutor
    private let state: NIOLoopBoundBox<State>

    private struct State {
        var handle: Handle?
        var waiting = CircularBuffer<WorkerEvent>()
        var isRunning = false
        var isFinished = false
        var drained: EventLoopPromise<Void>?
    }

    init(executor: EventLoopTaskExecutor) {
        self.executor = executor
        self.state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: executor.eventLoop)
    }

    /// Starts handing items to `handle`, those waiting first.
    func start(handling handle: @escaping Handle) {
        executor.eventLoop.execute {
            self.state.value.handle = handle
            self.runIfIdle()
        }
    }

    /// Hands `event` to the handler, from any thread; after ``finish()`` it is dropped.
    func submit(_ event: WorkerEvent) {
        guard executor.eventLoop.inEventLoop else {
            executor.eventLoop.execute { self.submit(event) }
            return
        }
        guard !state.value.isFinished else { return }
        state.value.waiting.append(event)
        runIfIdle()
    }

    private func runIfIdle() {
        guard !state.value.isRunning, !state.value.waiting.isEmpty, let handle = state.value.handle else { return }
        state.value.isRunning = true
        Task.immediate(executorPreference: executor) { await self.runWaiting(handle) }
    }

    /// Takes nothing more, and returns once everything taken has been handled.
    func finish() async {
        let drained = executor.eventLoop.makePromise(of: Void.self)
        executor.eventLoop.execute {
            self.state.value.isFinished = true
            if self.state.value.isRunning {
                self.state.value.drained = drained
            } else {
                drained.succeed()
            }
        }
        try? await drained.futureResult.get()
    }

    private func runWaiting(_ handle: Handle) async {
        while let event = state.value.waiting.popFirst() {
            await handle(event)
        }
        state.value.isRunning = false
        state.value.drained?.succeed()
        state.value.drained = nil
    }
}
