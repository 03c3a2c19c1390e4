import NIOCore

/// Runs the handler on what the worker receives (client events, timers, Channel events) on the
/// worker's event loop, in lanes: an item runs only after the items of its lane that arrived before it
/// have been handled, and at most `maxConcurrentEvents` items run at once.
///
/// With a limit of 1 (the default) every item is in the same lane: one at a time, in arrival order,
/// GatewayWorker's semantics. Above 1, each client has a lane of its own (its events never overlap
/// and keep their order, whatever the handler awaits), all timer firings share one lane and all
/// Channel events another (each kind runs in the order it fired or was published, one at a time),
/// and a lane that gets an item while every slot is taken waits for a free slot behind the lanes
/// that were waiting before it.
///
/// Each slot is a runner: one task, started with the dispatcher and kept for its whole life, that
/// runs a lane's items in order, then the oldest lane waiting for a slot, and parks when none waits.
/// An item whose lane is idle while a runner is parked wakes that runner, which runs it within the
/// same loop tick: a task per event would cost its creation and the first pieces of its stack (about
/// seven allocations), a kept runner reuses its own. Items that arrive before ``start(handling:)``
/// wait for it.
final class WorkerDispatcher: Sendable {
    typealias Handle = @Sendable (WorkerEvent) async -> Void

    private let executor: EventLoopTaskExecutor
    private let maxConcurrentEvents: Int
    private let state: NIOLoopBoundBox<State>

    /// A lane for a runner to run, and its first item.
    private struct Assignment {
        var lane: WorkerEvent.Lane
        var first: WorkerEvent
    }

    private struct State {
        /// Every lane with an item running or waiting, and its waiting items.
        var lanes: [WorkerEvent.Lane: LaneQueue] = [:]
        /// Lanes with items and no runner, in the order they got their first item.
        var lanesWaitingForSlot = CircularBuffer<WorkerEvent.Lane>()
        /// Runners with nothing to run, each waiting for an assignment (nil: end).
        var parkedRunners: [UnsafeContinuation<Assignment?, Never>] = []
        /// Runners started and not ended.
        var runners = 0
        var isFinished = false
        var drained: EventLoopPromise<Void>?
        /// The storage of the last lane closed, empty, for the next lane that opens: a burst of
        /// items then reuses it rather than growing a new one.
        var spareQueue = LaneQueue()
    }

    /// A lane's waiting items; an empty one holds no storage, so a lane that never waits allocates nothing.
    private struct LaneQueue {
        private var items: [WorkerEvent] = []
        private var head = 0

        mutating func append(_ item: WorkerEvent) {
            items.append(item)
        }

        mutating func popFirst() -> WorkerEvent? {
            guard head < items.count else { return nil }
            defer {
                head += 1
                if head == items.count {
                    items.removeAll(keepingCapacity: true)
                    head = 0
                }
            }
            return items[head]
        }
    }

    /// - Parameter maxConcurrentEvents: items that may run at once, at least 1.
    init(executor: EventLoopTaskExecutor, maxConcurrentEvents: Int = 1) {
        precondition(maxConcurrentEvents >= 1, "at least one event runs at a time")
        self.executor = executor
        self.maxConcurrentEvents = maxConcurrentEvents
        self.state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: executor.eventLoop)
    }

    /// Starts the runners, which hand items to `handle`, those waiting first.
    func start(handling handle: @escaping Handle) {
        executor.eventLoop.execute {
            guard !self.state.value.isFinished else { return }
            self.state.value.runners = self.maxConcurrentEvents
            for _ in 0..<self.maxConcurrentEvents {
                Task(executorPreference: self.executor) { await self.run(handle) }
            }
        }
    }

    /// Hands `event` to the handler, from any thread; after ``finish()`` it is dropped.
    func submit(_ event: WorkerEvent) {
        guard executor.eventLoop.inEventLoop else {
            executor.eventLoop.execute { self.submit(event) }
            return
        }
        guard !state.value.isFinished else { return }
        let lane = maxConcurrentEvents == 1 ? .all : event.lane
        if var queue = state.value.lanes.removeValue(forKey: lane) {
            queue.append(event)
            state.value.lanes[lane] = queue
        } else if let runner = state.value.parkedRunners.popLast() {
            state.value.lanes[lane] = takeSpareQueue()
            runner.resume(returning: Assignment(lane: lane, first: event))
        } else {
            var queue = takeSpareQueue()
            queue.append(event)
            state.value.lanes[lane] = queue
            state.value.lanesWaitingForSlot.append(lane)
        }
    }

    /// Takes nothing more, and returns once everything taken has been handled.
    func finish() async {
        let drained = executor.eventLoop.makePromise(of: Void.self)
        executor.eventLoop.execute {
            self.state.value.isFinished = true
            if self.state.value.runners > 0 {
                self.state.value.drained = drained
            } else {
                drained.succeed()
            }
            while let runner = self.state.value.parkedRunners.popLast() { runner.resume(returning: nil) }
        }
        try? await drained.futureResult.get()
    }

    /// One runner: runs the lanes it is assigned until the dispatcher finishes.
    private func run(_ handle: Handle) async {
        // Only what lives across the await is kept in the task's frame (the rest is in takeNext), to keep it small.
        while let assignment = await nextAssignment() {
            var lane = assignment.lane
            var next: WorkerEvent? = assignment.first
            while let item = next {
                await handle(item)
                next = takeNext(after: &lane)
            }
        }
        state.value.runners -= 1
        guard state.value.runners == 0 else { return }
        state.value.drained?.succeed()
        state.value.drained = nil
    }

    /// The oldest lane waiting for a slot; else, unless finished, the lane a later item brings.
    private func nextAssignment() async -> Assignment? {
        if let waiting = takeWaitingLane() { return waiting }
        guard !state.value.isFinished else { return nil }
        return await withUnsafeContinuation { state.value.parkedRunners.append($0) }
    }

    /// The next item of `lane`; when it has none, closes it and moves `lane` to the oldest lane
    /// waiting for a slot, and returns that lane's first item; nil when none waits.
    ///
    /// Here and in ``submit(_:)`` a lane's queue is taken out of the dictionary and put back rather
    /// than changed in place (`lanes[lane]?.popFirst()`): the subscript's modify accessor allocates
    /// its coroutine frame on the heap, which made two allocations per event.
    private func takeNext(after lane: inout WorkerEvent.Lane) -> WorkerEvent? {
        if var queue = state.value.lanes.removeValue(forKey: lane) {
            if let item = queue.popFirst() {
                state.value.lanes[lane] = queue
                return item
            }
            state.value.spareQueue = queue
        }
        guard let waiting = takeWaitingLane() else { return nil }
        lane = waiting.lane
        return waiting.first
    }

    private func takeSpareQueue() -> LaneQueue {
        defer { state.value.spareQueue = LaneQueue() }
        return state.value.spareQueue
    }

    /// The oldest lane waiting for a slot, with its first item.
    private func takeWaitingLane() -> Assignment? {
        guard let lane = state.value.lanesWaitingForSlot.popFirst(),
            var queue = state.value.lanes.removeValue(forKey: lane),
            let first = queue.popFirst()
        else { return nil }
        state.value.lanes[lane] = queue
        return Assignment(lane: lane, first: first)
    }
}
