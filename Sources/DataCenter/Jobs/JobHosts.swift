import NIOConcurrencyHelpers

/// The host of each job this worker has checked an agent's message against, so the job's next
/// `job.output` or `job.finished` needs no read of its record. A job's host never changes, so what is
/// here is never stale; it is forgotten all at once when it grows past `capacity`.
final class JobHosts: Sendable {
    private let hosts = NIOLockedValueBox([String: String]())
    private let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    /// The job's host, if this worker has read its record.
    func host(of job: String) -> String? {
        hosts.withLockedValue { $0[job] }
    }

    func record(_ host: String, of job: String) {
        hosts.withLockedValue { hosts in
            if hosts.count >= capacity { hosts.removeAll(keepingCapacity: true) }
            hosts[job] = host
        }
    }
}
