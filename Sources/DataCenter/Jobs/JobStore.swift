import DataCenterProtocol
import Foundation
import Registry

/// Jobs in memcached: records, kept output, the queue of each host, the cancels each host's agent
/// is still to get, the newest jobs and the unfinished ones. Nothing about a job lives only in a worker, so a worker killed mid-job loses nothing.
struct JobStore: Sendable {
    let data: GlobalData

    /// How many of the newest job ids `jobs.list` can reach.
    static let recentLimit = 1000
    /// Records and output are kept this long after their last change (seconds).
    static let retention = 7 * 24 * 3600

    private static let recentKey = "dc.jobs.recent"
    private static let activeKey = "dc.jobs.active"
    private static func recordKey(_ job: String) -> String { "dc.job:\(job)" }
    private static func outputKey(_ job: String) -> String { "dc.job:\(job):output" }
    private static func stdinKey(_ job: String) -> String { "dc.job:\(job):stdin" }
    private static func queueKey(_ host: String) -> String { "dc.jobs.queue:\(host)" }
    private static func cancelsKey(_ host: String) -> String { "dc.jobs.cancels:\(host)" }

    /// A new job id: `j-` and 16 random hex digits.
    static func newID() -> String {
        "j-" + String(format: "%016llx", UInt64.random(in: .min ... .max))
    }

    /// Stores a new queued job (and what its standard input starts with) and puts it on its host's queue.
    func create(_ record: JobRecord, stdin: String?) async throws {
        if let stdin { try await data.set(Self.stdinKey(record.id), Array(stdin.utf8), expiration: Self.retention) }
        try await data.set(Self.recordKey(record.id), json: record, expiration: Self.retention)
        try await data.set(Self.outputKey(record.id), json: JobOutputLog(), expiration: Self.retention)
        try await appendID(record.id, to: Self.queueKey(record.host))
        try await appendID(record.id, to: Self.activeKey)
        try await appendID(record.id, to: Self.recentKey, limit: Self.recentLimit)
    }

    /// Stores a job that its agent started on its own (a timer's run) unless it is stored already.
    /// - Returns: false when another worker stored it first.
    func createStarted(_ record: JobRecord) async throws -> Bool {
        guard try await data.add(Self.recordKey(record.id), Array(try JSONEncoder().encode(record)), expiration: Self.retention) else {
            return false
        }
        if !record.state.isFinal { try await appendID(record.id, to: Self.activeKey) }
        try await appendID(record.id, to: Self.recentKey, limit: Self.recentLimit)
        return true
    }

    func record(_ job: String) async throws -> JobRecord? {
        try await data.get(Self.recordKey(job), as: JobRecord.self)
    }

    /// The records of `jobs` in one round trip, in the order given; missing ones are left out.
    func records(_ jobs: [String]) async throws -> [JobRecord] {
        try await data.get(jobs.map(Self.recordKey), as: JobRecord.self)
    }

    /// Changes a job's record with compare-and-swap; nil when there is no such job.
    /// A job that reaches a final state leaves its host's queue and the unfinished jobs.
    func update(_ job: String, _ change: (inout JobRecord) throws -> Void) async throws -> (before: JobRecord, after: JobRecord)? {
        var before: JobRecord?
        let after: JobRecord
        do {
            after = try await data.update(Self.recordKey(job), as: JobRecord.self, expiration: Self.retention) { current in
                guard var record = current else { throw NoSuchJob() }
                before = record
                try change(&record)
                return record
            }
        } catch is NoSuchJob {
            return nil
        }
        guard let before else { return nil }
        if after.state != .queued, before.state == .queued { try await removeID(job, from: Self.queueKey(after.host)) }
        if after.state.isFinal, !before.state.isFinal {
            try await removeID(job, from: Self.activeKey)
            if after.cancelRequestedAt != nil { try await removePendingCancels([job], host: after.host) }
        }
        return (before, after)
    }

    /// What the job's standard input starts with, if its `jobs.run` gave any.
    func stdin(of job: String) async throws -> String? {
        try await data.get(Self.stdinKey(job)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The ids of the jobs waiting for `host`'s agent, oldest first.
    func queue(of host: String) async throws -> [String] {
        try await data.get(Self.queueKey(host), as: [String].self) ?? []
    }

    /// Records that the running `job` is to be cancelled by `host`'s agent, until the job ends.
    func addPendingCancel(_ job: String, host: String) async throws {
        try await appendID(job, to: Self.cancelsKey(host))
    }

    /// The jobs whose cancel `host`'s agent is still to get.
    func pendingCancels(of host: String) async throws -> [String] {
        try await data.get(Self.cancelsKey(host), as: [String].self) ?? []
    }

    func removePendingCancels(_ jobs: Set<String>, host: String) async throws {
        _ = try await data.update(Self.cancelsKey(host), as: [String].self) { ids in
            (ids ?? []).filter { !jobs.contains($0) }
        }
    }

    /// The ids of every unfinished job.
    func activeJobs() async throws -> [String] {
        try await data.get(Self.activeKey, as: [String].self) ?? []
    }

    /// The newest job ids, newest first.
    func recentJobs() async throws -> [String] {
        (try await data.get(Self.recentKey, as: [String].self) ?? []).reversed()
    }

    /// Adds a chunk to the job's kept output unless it was received before.
    /// - Returns: false for a duplicate.
    func appendOutput(_ chunk: OutputChunk, limit: Int) async throws -> Bool {
        var added = false
        _ = try await data.update(Self.outputKey(chunk.job), as: JobOutputLog.self, expiration: Self.retention) { log in
            var log = log ?? JobOutputLog()
            added = log.insert(chunk, limit: limit)
            return log
        }
        return added
    }

    func output(of job: String) async throws -> JobOutputLog {
        try await data.get(Self.outputKey(job), as: JobOutputLog.self) ?? JobOutputLog()
    }

    private func appendID(_ id: String, to key: String, limit: Int = .max) async throws {
        _ = try await data.update(key, as: [String].self) { ids in
            Array(((ids ?? []) + [id]).suffix(limit))
        }
    }

    private func removeID(_ id: String, from key: String) async throws {
        _ = try await data.update(key, as: [String].self) { ids in
            (ids ?? []).filter { $0 != id }
        }
    }
}

/// Stops an update of a record that does not exist (never did, or expired).
private struct NoSuchJob: Error {}
