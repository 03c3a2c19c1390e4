import DataCenterProtocol

/// A job being followed: its output in order, each chunk once, then its final record (``JobEvent``).
///
/// The chunks come from the job's `job.output` events; once the job has ended, the output kept by the
/// central side fills in what the events did not bring, so a follower that joined late, or whose
/// events raced each other, still gets every chunk that is kept. After a reconnect the output kept
/// meanwhile comes first, from the chunk after the last one given. Iterating it ends after
/// ``JobEvent/finished(_:)``; it throws what ended the session when that happens first
/// (``OperatorClient/ConnectionEnded``), and `not_found` (``ProtocolError``) when the central side
/// no longer has the job (its record expired or was lost), so a follower never waits for ever.
public struct JobRun: AsyncSequence, Sendable {
    public typealias Element = JobEvent

    /// The job as it was when it was queued or first watched.
    public let job: JobRecord
    private let initialOutput: [OutputChunk]
    private let updates: AsyncStream<JobEventRouter.Update>
    private let connection: OperatorConnection

    init(job: JobRecord, output: [OutputChunk], updates: AsyncStream<JobEventRouter.Update>, connection: OperatorConnection) {
        self.job = job
        self.initialOutput = output
        self.updates = updates
        self.connection = connection
    }

    public func makeAsyncIterator() -> Iterator {
        var pending = initialOutput.map(JobEventRouter.Update.output)
        if job.state.isFinal { pending.append(.state(job)) }
        return Iterator(job: job.id, pending: pending, updates: updates.makeAsyncIterator(), connection: connection)
    }

    public struct Iterator: AsyncIteratorProtocol {
        private let job: String
        /// Updates known before the first event (a watch's snapshot, a job that had ended already).
        private var pending: [JobEventRouter.Update]
        private var updates: AsyncStream<JobEventRouter.Update>.Iterator
        private let connection: OperatorConnection
        private var order = JobOutputOrder()
        private var ready: [OutputChunk] = []
        private var final: JobRecord?
        private var finished = false

        init(job: String, pending: [JobEventRouter.Update], updates: AsyncStream<JobEventRouter.Update>.Iterator, connection: OperatorConnection) {
            self.job = job
            self.pending = pending
            self.updates = updates
            self.connection = connection
        }

        public mutating func next() async throws -> JobEvent? {
            while true {
                if !ready.isEmpty { return .output(ready.removeFirst()) }
                if let final {
                    self.final = nil
                    finished = true
                    return .finished(final)
                }
                if finished { return nil }
                let update: JobEventRouter.Update
                if !pending.isEmpty {
                    update = pending.removeFirst()
                } else if let next = await updates.next() {
                    update = next
                } else {
                    try Task.checkCancellation()
                    throw connection.endReason ?? OperatorClient.ConnectionEnded()
                }
                switch update {
                case .output(let chunk):
                    ready += order.take(chunk)
                case .state(let record) where record.state.isFinal:
                    let shown = try await connection.request(.jobsShow, JobQuery(job: job)).payload(JobDetailReply.self)
                    for chunk in shown.output { ready += order.take(chunk) }
                    ready += order.flush()
                    final = shown.job
                case .state:
                    continue
                case .missing:
                    finished = true
                    throw ProtocolError(.notFound, "job \(job) is no longer known to the central side: its record expired or was lost")
                }
            }
        }
    }
}
