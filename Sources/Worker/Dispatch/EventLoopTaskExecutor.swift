import NIOCore

/// Runs a task's jobs on a NIO event loop.
///
/// The worker runs its handler calls on the event loop of its gateway links, so an event travels
/// from the socket to the handler, and the handler's reply back to the socket, without changing
/// threads: no wake-up of another thread on the hot path. The price is the same as for any NIO
/// handler: a handler that blocks (rather than awaits) stalls this worker's links.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: EventLoop

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
