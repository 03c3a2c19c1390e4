/// A job: one run of an action on one host, from queued to a final state.
public struct JobRecord: Codable, Sendable, Hashable {
    public var id: String
    public var host: String
    public var action: String
    public var params: [String: String]
    public var state: JobState
    /// The operator or service that asked for it.
    public var requestedBy: String
    public var queuedAt: Timestamp
    public var startedAt: Timestamp?
    public var endedAt: Timestamp?
    public var exitCode: Int?
    /// The signal that ended the process, when one did.
    public var signal: Int?
    public var durationMs: Int?
    /// Output bytes received so far, both streams.
    public var outputBytes: Int
    /// Seconds the job may run before it is timed out.
    public var timeoutSeconds: Int?
    /// Why the job failed without running (the agent refused it), when it did.
    public var error: String?
    /// When a cancel was asked for while the job ran; the agent gets it (again at every connect)
    /// until the job ends.
    public var cancelRequestedAt: Timestamp?

    public init(
        id: String, host: String, action: String, params: [String: String], state: JobState = .queued,
        requestedBy: String, queuedAt: Timestamp, startedAt: Timestamp? = nil, endedAt: Timestamp? = nil,
        exitCode: Int? = nil, signal: Int? = nil, durationMs: Int? = nil, outputBytes: Int = 0, timeoutSeconds: Int? = nil,
        error: String? = nil, cancelRequestedAt: Timestamp? = nil
    ) {
        self.id = id
        self.host = host
        self.action = action
        self.params = params
        self.state = state
        self.requestedBy = requestedBy
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.exitCode = exitCode
        self.signal = signal
        self.durationMs = durationMs
        self.outputBytes = outputBytes
        self.timeoutSeconds = timeoutSeconds
        self.error = error
        self.cancelRequestedAt = cancelRequestedAt
    }
}

/// Where a job is in its life. `queued` and `running` change; every other state is final.
public enum JobState: String, Codable, Sendable, Hashable, CaseIterable {
    case queued
    case running
    case done
    case failed
    case cancelled
    case timedOut = "timed_out"
    /// Its host went away and did not come back with the job's result in time.
    case lost

    /// True for the states a job never leaves.
    public var isFinal: Bool {
        switch self {
        case .queued, .running: return false
        case .done, .failed, .cancelled, .timedOut, .lost: return true
        }
    }
}

/// A piece of a job's output: `seq` counts from 0 per job over both streams together.
public struct OutputChunk: Codable, Sendable, Hashable {
    public var job: String
    public var seq: Int
    public var stream: OutputStream
    /// Text; bytes that are not UTF-8 are replaced.
    public var data: String

    public init(job: String, seq: Int, stream: OutputStream, data: String) {
        self.job = job
        self.seq = seq
        self.stream = stream
        self.data = data
    }
}

/// The stream a chunk of output came from.
public enum OutputStream: String, Codable, Sendable, Hashable {
    case stdout
    case stderr
}
