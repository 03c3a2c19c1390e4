import NIOCore

/// Runs a task's jobs on a NIO event loop.
///
/// The worker runs its handler calls on the event loop of its gateway links, so an event travels
/// from the socket to the handler, and the handler's reply back to the socket, without changing
/// threads: no wake-up of another thread on the hot path. The price is the same as for any NIO
/// handler: a handler that blocks (rather than awaits) stalls this worker's links.
///
/// Jobs enqueued on the loop itself (a handler's task resumed by an event the loop just read) wait
/// in a queue that one loop task runs: no closure is allocated per job.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: EventLoop
    private let queue: NIOLoopBoundBox<Queue>

    private struct Queue {
        var jobs = CircularBuffer<UnownedJob>()
        var isScheduled = false
    }

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
        self.queue = NIOLoopBoundBox.makeBoxSendingValue(Queue(), eventLoop: eventLoop)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        guard eventLoop.inEventLoop else {
            eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
            return
        }
        queue.value.jobs.append(job)
        guard !queue.value.isScheduled else { return }
        queue.value.isScheduled = true
        // Captures `self` alone, so the closure needs no context of its own.
        eventLoop.execute { self.runQueuedJobs() }
    }

    /// Runs the jobs queued so far; those they queue run in the next loop task, so a task that keeps
    /// yielding cannot keep the loop from its I/O.
    private func runQueuedJobs() {
        queue.value.isScheduled = false
        for _ in 0..<queue.value.jobs.count {
            guard let job = queue.value.jobs.popFirst() else { return }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
