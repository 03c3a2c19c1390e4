import DataCenterProtocol
import Foundation
import Registry

/// Jobs in memcached: records, kept output, the queue of each host, the cancels each host's agent
/// is still to get, the newest jobs and the unfinished ones. Nothing about a job lives only in a worker, so a worker killed mid-job loses nothing.
///
/// A job's record is the truth about its state; the lists only say where to look. So a job that starts
/// or ends changes its record alone: its id stays on its host's queue or pending cancels until that list
/// is next written (then ids whose record no longer belongs there are dropped), and on the unfinished jobs
/// until the sweep (which reads every record there anyway). Whoever reads a list checks the records.
struct JobStore: Sendable {
    let data: GlobalData

    /// How many of the newest job ids `jobs.list` can reach.
    static let recentLimit = 1000
    /// Records and output are kept this long after their last change (seconds).
    static let retention = 7 * 24 * 3600

    /// The newest job ids, one per line, oldest first: a new job is appended (memcached's `append`,
    /// nothing read, no compare-and-swap for workers to race on), and now and then the list is cut
    /// back to the newest `recentLimit`.
    private static let recentKey = "dc.jobs.newest"
    /// One append in this many also cuts the list back.
    private static let recentTrimEvery = 64
    /// The unfinished jobs (and those that ended since the last sweep), spread so that a batch of new
    /// jobs rewrites short lists.
    static let active = SpreadKeys(prefix: "dc.jobs.active", count: 64)
    private static func recordKey(_ job: String) -> String { "dc.job:\(job)" }
    /// Each chunk of output is an item of its own, numbered as the agent numbered it.
    private static func chunkKey(_ job: String, _ seq: Int) -> String { "dc.job:\(job):output:\(seq)" }
    /// Output is read this many chunk numbers at a time (after a first page of 8).
    private static let outputPage = 64
    private static func stdinKey(_ job: String) -> String { "dc.job:\(job):stdin" }
    private static func queueKey(_ host: String) -> String { "dc.jobs.queue:\(host)" }
    private static func cancelsKey(_ host: String) -> String { "dc.jobs.cancels:\(host)" }

    /// A new job id: `j-` and 16 random hex digits.
    static func newID() -> String {
        "j-" + String(format: "%016llx", UInt64.random(in: .min ... .max))
    }

    /// Stores new queued jobs (all with the same standard input, if any), puts each on its host's queue and
    /// adds them to the unfinished and the newest jobs: the records are written side by side, then every
    /// list once for the whole batch. No output log is written: a job without one has none yet.
    func create(_ records: [JobRecord], stdin: String?) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for record in records {
                group.addTask {
                    if let stdin { try await data.set(Self.stdinKey(record.id), Array(stdin.utf8), expiration: Self.retention) }
                    try await data.set(Self.recordKey(record.id), json: record, expiration: Self.retention)
                }
            }
            try await group.waitForAll()
            // The lists only after the records, so whoever finds an id there finds its record.
            try await appendRecent(records.map(\.id))
            for (host, queued) in Dictionary(grouping: records, by: \.host) {
                group.addTask { try await addIDs(queued.map(\.id), to: Self.queueKey(host), keeping: { $0.state == .queued }) }
            }
            for (key, ids) in Self.active.grouped(records.map(\.id)) {
                group.addTask { try await appendIDs(ids, to: key) }
            }
            try await group.waitForAll()
        }
    }

    /// Stores a job that its agent started on its own (a timer's run) unless it is stored already.
    /// - Returns: false when another worker stored it first.
    func createStarted(_ record: JobRecord) async throws -> Bool {
        guard try await data.add(Self.recordKey(record.id), Array(try JSONEncoder().encode(record)), expiration: Self.retention) else {
            return false
        }
        if !record.state.isFinal { try await appendIDs([record.id], to: Self.active.key(for: record.id)) }
        try await appendRecent([record.id])
        return true
    }

    func record(_ job: String) async throws -> JobRecord? {
        try await data.get(Self.recordKey(job), as: JobRecord.self)
    }

    /// The records of `jobs` in one round trip, in the order given; missing ones are left out.
    func records(_ jobs: [String]) async throws -> [JobRecord] {
        try await data.get(jobs.map(Self.recordKey), as: JobRecord.self)
    }

    /// A job's record before and after a change, and the JSON stored for `after` (nil when nothing
    /// changed, so nothing was written): pushed to operators as it is, not encoded again.
    struct Change: Sendable {
        let before: JobRecord
        let after: JobRecord
        let json: [UInt8]?
    }

    /// Changes a job's record with compare-and-swap; nil when there is no such job.
    func update(_ job: String, _ change: @escaping @Sendable (inout JobRecord) throws -> Void) async throws -> Change? {
        try await update([job], change).first
    }

    /// Changes the records of `jobs` with compare-and-swap, side by side. Jobs that do not exist are left out of the result.
    func update(_ jobs: [String], _ change: @escaping @Sendable (inout JobRecord) throws -> Void) async throws -> [Change] {
        try await withThrowingTaskGroup(of: Change?.self) { group in
            for job in jobs {
                group.addTask { try await updateRecord(job, change) }
            }
            var changed: [String: Change] = [:]
            for try await case let change? in group { changed[change.after.id] = change }
            return jobs.compactMap { changed[$0] }
        }
    }

    private func updateRecord(_ job: String, _ change: (inout JobRecord) throws -> Void) async throws -> Change? {
        var before: JobRecord?
        var after: JobRecord?
        let json: [UInt8]
        do {
            json = try await data.update(Self.recordKey(job), expiration: Self.retention) { bytes in
                guard let bytes else { throw NoSuchJob() }
                var record = try JSONDecoder().decode(JobRecord.self, from: Data(bytes))
                before = record
                try change(&record)
                if record == before { throw Unchanged() }
                after = record
                return Array(try JSONEncoder().encode(record))
            }
        } catch is NoSuchJob {
            return nil
        } catch is Unchanged {
            return before.map { Change(before: $0, after: $0, json: nil) }
        }
        guard let before, let after else { return nil }
        return Change(before: before, after: after, json: json)
    }

    /// What the job's standard input starts with, if its `jobs.run` gave any.
    func stdin(of job: String) async throws -> String? {
        try await data.get(Self.stdinKey(job)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The ids of the jobs waiting for `host`'s agent, oldest first.
    func queue(of host: String) async throws -> [String] {
        try await data.get(Self.queueKey(host), as: [String].self) ?? []
    }

    /// Records that the running `jobs` are to be cancelled by their agents, until each ends: one write per host.
    func addPendingCancels(_ jobs: [JobRecord]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (host, records) in Dictionary(grouping: jobs, by: \.host) {
                group.addTask { try await addIDs(records.map(\.id), to: Self.cancelsKey(host), keeping: { !$0.state.isFinal }) }
            }
            try await group.waitForAll()
        }
    }

    /// The jobs whose cancel `host`'s agent is still to get, and some that have ended since.
    func pendingCancels(of host: String) async throws -> [String] {
        try await data.get(Self.cancelsKey(host), as: [String].self) ?? []
    }

    func removePendingCancels(_ jobs: Set<String>, host: String) async throws {
        try await removeIDs(jobs, from: Self.cancelsKey(host))
    }

    /// The ids of every unfinished job, and of those that ended since the last ``forgetEnded(_:)``.
    func activeJobs() async throws -> [String] {
        try await data.get(Self.active.allKeys, as: [String].self).flatMap { $0 }
    }

    /// Takes jobs that have ended (or whose record expired) off the unfinished jobs, each item once.
    func forgetEnded(_ jobs: [String]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (key, ids) in Self.active.grouped(jobs) {
                group.addTask { try await removeIDs(Set(ids), from: key) }
            }
            try await group.waitForAll()
        }
    }

    /// The newest job ids, newest first.
    func recentJobs() async throws -> [String] {
        Self.newest(in: try await data.get(Self.recentKey) ?? []).reversed()
    }

    private func appendRecent(_ ids: [String]) async throws {
        let lines = Array(ids.map { $0 + "\n" }.joined().utf8)
        if Int.random(in: 0..<Self.recentTrimEvery) != 0, try await data.append(Self.recentKey, lines) { return }
        // Cut back (or create, or the item grew too large): read, keep the newest, write with compare-and-swap.
        _ = try await data.update(Self.recentKey) { current in
            Array(Self.newest(in: (current ?? []) + lines).map { $0 + "\n" }.joined().utf8)
        }
    }

    /// The newest `recentLimit` ids of a list's lines, oldest first.
    private static func newest(in lines: [UInt8]) -> [String] {
        lines.split(separator: UInt8(ascii: "\n")).suffix(recentLimit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Keeps a chunk of the job's output unless it was received before: one `add` of the chunk's own
    /// item, which memcached refuses when it holds that chunk number already. Nothing is read.
    /// - Returns: the chunk's JSON as stored; nil for a duplicate.
    func appendOutput(_ chunk: OutputChunk) async throws -> [UInt8]? {
        guard chunk.seq >= 0 else { return nil }
        let json = Array(try JSONEncoder().encode(chunk))
        return try await data.add(Self.chunkKey(chunk.job, chunk.seq), json, expiration: Self.retention) ? json : nil
    }

    /// The job's output, the newest `limit` bytes of it kept: its chunks are read a page of chunk
    /// numbers per round trip, until a page ends without its last chunk.
    func output(of job: String, limit: Int) async throws -> JobOutputLog {
        var log = JobOutputLog()
        // Most jobs print a few chunks: a short first page.
        var seqs = 0..<8
        while true {
            let chunks = try await data.get(seqs.map { Self.chunkKey(job, $0) }, as: OutputChunk.self)
            for chunk in chunks { _ = log.insert(chunk, limit: limit) }
            if chunks.last?.seq != seqs.last { return log }
            seqs = seqs.upperBound..<(seqs.upperBound + Self.outputPage)
        }
    }

    private func appendIDs(_ added: [String], to key: String) async throws {
        _ = try await data.update(key, as: [String].self) { ids in
            (ids ?? []) + added
        }
    }

    /// Adds `added` to a host's list of jobs and, in the same write, drops the ids on it whose record
    /// does not pass `belongs` any more (or has expired): the one read of their records that lets a job
    /// that starts or ends leave the list without a write of its own.
    private func addIDs(_ added: [String], to key: String, keeping belongs: @escaping @Sendable (JobRecord) -> Bool) async throws {
        _ = try await data.update(key, as: [String].self) { ids in
            guard let ids, !ids.isEmpty else { return added }
            let kept = Set(try await records(ids).filter(belongs).map(\.id))
            return ids.filter { kept.contains($0) } + added
        }
    }

    private func removeIDs(_ removed: Set<String>, from key: String) async throws {
        _ = try await data.update(key, as: [String].self) { ids in
            (ids ?? []).filter { !removed.contains($0) }
        }
    }
}

/// Stops an update of a record that does not exist (never did, or expired).
private struct NoSuchJob: Error {}

/// Stops an update that changes nothing, so nothing is written.
private struct Unchanged: Error {}
