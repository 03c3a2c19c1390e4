import DataCenterProtocol

/// What a ``JobRun`` yields: the job's output, chunk after chunk in order, then its final record.
public enum JobEvent: Sendable, Hashable {
    /// The next chunk of the job's standard output or error (in `seq` order, none twice).
    case output(OutputChunk)
    /// The job has ended (`done`, `failed`, `cancelled`, `timed_out` or `lost`): the last event.
    case finished(JobRecord)
}
