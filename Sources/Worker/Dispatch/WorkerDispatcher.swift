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
/// An item whose lane is idle while a slot is free starts at once, inside the read that brought it
/// (`Task.immediate` on the loop): a handler that does not suspend (one that only queues replies) runs
/// to its end with no stream, no task switch and no extra loop tick, and its replies leave with this
/// tick's flush. The task that runs a lane takes its later items in order, then the oldest lane
/// waiting for a slot. Items that arrive before ``start(handling:)`` wait for it.
final class WorkerDispatcher: Sendable {
    typealias Handle = @Sendable (WorkerEvent) async -> Void

    private let executor: EventLoopTaskExecutor
    private let maxConcurrentEvents: Int
    private let state: NIOLoopBoundBox<State>

    private struct State {
        var handle: Handle?
        /// Every lane with an item running or waiting, and its waiting items.
        var lanes: [WorkerEvent.Lane: LaneQueue] = [:]
        /// Lanes with items and no slot, in the order they got their first item.
        var lanesWaitingForSlot = CircularBuffer<WorkerEvent.Lane>()
        /// Lanes whose items a task is running.
        var running = 0
        var isFinished = false
        var drained: EventLoopPromise<Void>?
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

    /// Starts handing items to `handle`, those waiting first.
    func start(handling handle: @escaping Handle) {
        executor.eventLoop.execute {
            self.state.value.handle = handle
            while self.state.value.running < self.maxConcurrentEvents,
                let lane = self.state.value.lanesWaitingForSlot.popFirst(),
                let item = self.state.value.lanes[lane]?.popFirst()
            {
                self.state.value.running += 1
                Task.immediate(executorPreference: self.executor) { await self.run(lane, first: item, handle) }
            }
        }
    }

    /// Hands `event` to the handler, from any thread; after ``finish()`` it is dropped.
    func submit(_ event: WorkerEvent) {
        guard executor.eventLoop.inEventLoop else {
            executor.eventLoop.execute { self.submit(event) }
            return
        }
        let lane = maxConcurrentEvents == 1 ? .all : event.lane
        guard let handle = admit(event, to: lane) else { return }
        Task.immediate(executorPreference: executor) { await self.run(lane, first: event, handle) }
    }

    /// Queues `event` behind the items of its lane, or behind the lanes waiting for a slot; or, when
    /// it can start now, takes a slot for its lane and returns the handler.
    ///
    /// Nothing read from the state outlives this call: the lane runs right after it, inside
    /// `submit`, and a copy of the state still alive then would make its first change copy it.
    private func admit(_ event: WorkerEvent, to lane: WorkerEvent.Lane) -> Handle? {
        guard !state.value.isFinished else { return nil }
        if state.value.lanes[lane] != nil {
            state.value.lanes[lane]!.append(event)
            return nil
        }
        guard state.value.handle != nil, state.value.running < maxConcurrentEvents else {
            var queue = LaneQueue()
            queue.append(event)
            state.value.lanes[lane] = queue
            state.value.lanesWaitingForSlot.append(lane)
            return nil
        }
        state.value.lanes[lane] = LaneQueue()
        state.value.running += 1
        return state.value.handle
    }

    /// Takes nothing more, and returns once everything taken has been handled.
    func finish() async {
        let drained = executor.eventLoop.makePromise(of: Void.self)
        executor.eventLoop.execute {
            self.state.value.isFinished = true
            if self.state.value.running > 0 {
                self.state.value.drained = drained
            } else {
                drained.succeed()
            }
        }
        try? await drained.futureResult.get()
    }

    /// Runs `first`, the rest of its lane, then the lanes waiting for a slot, in the slot its lane took.
    private func run(_ firstLane: WorkerEvent.Lane, first: WorkerEvent, _ handle: Handle) async {
        // Only what lives across the await is kept in the task's frame (the rest is in takeNext), to keep it small.
        var lane = firstLane
        var next: WorkerEvent? = first
        while let item = next {
            await handle(item)
            next = takeNext(after: &lane)
        }
        state.value.running -= 1
        guard state.value.running == 0 else { return }
        state.value.drained?.succeed()
        state.value.drained = nil
    }

    /// The next item of `lane`; when it has none, closes it and moves `lane` to the oldest lane
    /// waiting for a slot, and returns that lane's first item; nil when none waits.
    ///
    /// A lane's queue is taken out of the dictionary and put back rather than changed in place
    /// (`lanes[lane]?.popFirst()`): the subscript's modify accessor allocates its coroutine frame on
    /// the heap, which made two allocations per event.
    private func takeNext(after lane: inout WorkerEvent.Lane) -> WorkerEvent? {
        if var queue = state.value.lanes.removeValue(forKey: lane), let item = queue.popFirst() {
            state.value.lanes[lane] = queue
            return item
        }
        guard let waiting = state.value.lanesWaitingForSlot.popFirst(),
            var queue = state.value.lanes.removeValue(forKey: waiting)
        else { return nil }
        lane = waiting
        let item = queue.popFirst()
        state.value.lanes[waiting] = queue
        return item
    }
}
