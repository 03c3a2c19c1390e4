/// `jobs.show`, `jobs.watch`: which job, and from which output chunk.
public struct JobOutputQuery: Codable, Sendable, Hashable {
    public var job: String
    /// Only the kept chunks whose `seq` is at least this (a follower resuming after a reconnect gives the
    /// first it has not seen); all of them when absent.
    public var fromSeq: Int?

    public init(job: String, fromSeq: Int? = nil) {
        self.job = job
        self.fromSeq = fromSeq
    }
}
