import DataCenterProtocol
import Foundation

/// What the agent remembers of a job it accepted, on disk from before the job starts: a job id
/// delivered again is answered from here and never run twice.
public struct AgentJobRecord: Codable, Sendable, Equatable {
    public var id: String
    public var action: String
    public var params: [String: String]
    public var state: JobState
    public var startedAt: Date
    public var endedAt: Date?
    public var exitCode: Int?
    public var signal: Int?
    public var durationMs: Int?

    /// The result as the central side is told it.
    var finished: JobFinished {
        JobFinished(job: id, state: state, exitCode: exitCode, signal: signal, durationMs: durationMs ?? 0)
    }
}
