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

    /// The newest job ids, one per line, oldest first: a new job is appended (memcached's `append`,
    /// nothing read, no compare-and-swap for workers to race on), and now and then the list is cut
    /// back to the newest `recentLimit`.
    private static let recentKey = "dc.jobs.newest"
    /// One append in this many also cuts the list back.
    private static let recentTrimEvery = 64
    /// The unfinished jobs, spread so that a job ending rewrites a short list.
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
                group.addTask { try await appendIDs(queued.map(\.id), to: Self.queueKey(host)) }
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

    /// Changes a job's record with compare-and-swap; nil when there is no such job.
    /// A job that reaches a final state leaves its host's queue and the unfinished jobs.
    func update(_ job: String, _ change: @escaping @Sendable (inout JobRecord) throws -> Void) async throws -> (before: JobRecord, after: JobRecord)? {
        try await update([job], change).first
    }

    /// Changes the records of `jobs` with compare-and-swap, side by side, then takes those that left the
    /// queued state off their hosts' queues and those that ended off the unfinished jobs and the pending
    /// cancels, each list once. Jobs that do not exist are left out of the result.
    func update(_ jobs: [String], _ change: @escaping @Sendable (inout JobRecord) throws -> Void) async throws -> [(before: JobRecord, after: JobRecord)] {
        let changed = try await withThrowingTaskGroup(of: (before: JobRecord, after: JobRecord)?.self) { group in
            for job in jobs {
                group.addTask { try await updateRecord(job, change) }
            }
            var changed: [String: (before: JobRecord, after: JobRecord)] = [:]
            for try await case let change? in group { changed[change.after.id] = change }
            return jobs.compactMap { changed[$0] }
        }
        let dequeued = changed.filter { $0.before.state == .queued && $0.after.state != .queued }.map(\.after)
        let ended = changed.filter { !$0.before.state.isFinal && $0.after.state.isFinal }.map(\.after)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (host, records) in Dictionary(grouping: dequeued, by: \.host) {
                group.addTask { try await removeIDs(Set(records.map(\.id)), from: Self.queueKey(host)) }
            }
            for (key, ids) in Self.active.grouped(ended.map(\.id)) {
                group.addTask { try await removeIDs(Set(ids), from: key) }
            }
            for (host, records) in Dictionary(grouping: ended.filter { $0.cancelRequestedAt != nil }, by: \.host) {
                group.addTask { try await removePendingCancels(Set(records.map(\.id)), host: host) }
            }
            try await group.waitForAll()
        }
        return changed
    }

    private func updateRecord(_ job: String, _ change: (inout JobRecord) throws -> Void) async throws -> (before: JobRecord, after: JobRecord)? {
        var before: JobRecord?
        let after: JobRecord
        do {
            after = try await data.update(Self.recordKey(job), as: JobRecord.self, expiration: Self.retention) { current in
                guard var record = current else { throw NoSuchJob() }
                before = record
                try change(&record)
                if record == current { throw Unchanged() }
                return record
            }
        } catch is NoSuchJob {
            return nil
        } catch is Unchanged {
            return before.map { ($0, $0) }
        }
        return before.map { ($0, after) }
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
                group.addTask { try await appendIDs(records.map(\.id), to: Self.cancelsKey(host)) }
            }
            try await group.waitForAll()
        }
    }

    /// The jobs whose cancel `host`'s agent is still to get.
    func pendingCancels(of host: String) async throws -> [String] {
        try await data.get(Self.cancelsKey(host), as: [String].self) ?? []
    }

    func removePendingCancels(_ jobs: Set<String>, host: String) async throws {
        try await removeIDs(jobs, from: Self.cancelsKey(host))
    }

    /// The ids of every unfinished job.
    func activeJobs() async throws -> [String] {
        try await data.get(Self.active.allKeys, as: [String].self).flatMap { $0 }
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
