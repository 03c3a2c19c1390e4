import ArgumentParser
import DataCenterClient
import DataCenterProtocol
import Foundation

/// One job fanned out to many hosts, timed from the moment the first `jobs.run` goes out: when each
/// job's first output chunk and its final state reach the requester; then a second fan-out that is
/// cancelled, timed from the first cancel. The hosts are shared out over the given connections (a worker
/// handles one connection's requests in order, so several connections reach several workers), one
/// `jobs.runMany` / `jobs.cancelMany` per connection, or one `jobs.run` / `jobs.cancel` per host when
/// `perJob` (to compare with).
struct JobFanOut {
    /// The first output chunk of this share of the jobs must arrive within `firstChunkTarget`.
    static let firstChunkShare = 0.99
    static let firstChunkTarget = 0.5
    /// Every exit status, and every cancel, within this many seconds.
    static let completionTarget = 2.0

    let observations: OperatorObservations
    let hosts: [String]
    let wait: Double
    let perJob: Bool
    private let sessions: [DataCenterSession]

    init(connections: [FleetOperator], observations: OperatorObservations, hosts: [String], wait: Double, perJob: Bool) throws {
        self.observations = observations
        self.hosts = hosts
        self.wait = wait
        self.perJob = perJob
        sessions = try connections.map { connection in
            guard let session = connection.session else { throw ValidationError("a fan-out connection is not connected") }
            return session
        }
    }

    /// The connection that carries the `index`-th host's requests.
    private func session(for index: Int) -> DataCenterSession {
        sessions[index % sessions.count]
    }

    /// `names` shared out over the connections as `session(for:)` does, one share per connection.
    private func shares(_ names: [String]) -> [(session: DataCenterSession, names: [String])] {
        sessions.indices.map { share in
            (sessions[share], stride(from: share, to: names.count, by: sessions.count).map { names[$0] })
        }.filter { !$0.names.isEmpty }
    }

    /// `fleet.echo` on every host: first chunks and exit statuses.
    func runAndCollect() async throws -> [(String, JSONValue)] {
        let (started, jobs, refused) = try await start(FleetActions.echo)
        let sightings = try await waitUntil(jobs) { $0.ended != nil }
        let firstChunks = sightings.compactMap { $0.firstChunk.map { ($0 - started).seconds } }.sorted()
        let ends = sightings.compactMap { $0.ended.map { ($0 - started).seconds } }.sorted()
        let succeeded = sightings.filter { $0.state == .done && $0.exitCode == 0 }.count
        let chunkShare = Self.share(firstChunks, within: Self.firstChunkTarget, of: hosts.count)
        let endShare = Self.share(ends, within: Self.completionTarget, of: hosts.count)
        Output.line(
            "job on \(hosts.count) hosts: \(jobs.count) queued (\(refused) refused); first chunk p50 \(Self.ms(firstChunks, 50)) p99 \(Self.ms(firstChunks, 99)) ms, \(Self.percent(chunkShare)) within \(Self.firstChunkTarget) s; exit status from \(ends.count) (\(succeeded) exit 0), all in \(Self.ms(ends, 100)) ms, \(Self.percent(endShare)) within \(Self.completionTarget) s"
        )
        return [
            ("job_hosts", .int(hosts.count)),
            ("job_refused", .int(refused)),
            ("job_first_chunk_p50_ms", .double(Self.ms(firstChunks, 50))),
            ("job_first_chunk_p99_ms", .double(Self.ms(firstChunks, 99))),
            ("job_first_chunk_within_target", .double(chunkShare)),
            ("job_results", .int(ends.count)),
            ("job_exit_0", .int(succeeded)),
            ("job_all_results_ms", .double(Self.ms(ends, 100))),
            ("job_results_within_target", .double(endShare)),
        ]
    }

    /// `fleet.wait` on every host; once each has printed its line, every job is cancelled.
    func runAndCancel() async throws -> [(String, JSONValue)] {
        let (_, jobs, refused) = try await start(FleetActions.wait)
        _ = try await waitUntil(jobs) { $0.firstChunk != nil || $0.ended != nil }
        let cancelling = ContinuousClock.now
        var cancelRefused = 0
        if perJob {
            var pending: [DataCenterSession.PendingReply] = []
            for (index, job) in jobs.enumerated() { pending.append(try await session(for: index).post(.jobsCancel, JobQuery(job: job))) }
            for reply in pending where (try? await reply.value()) == nil { cancelRefused += 1 }
        } else {
            var pending: [(count: Int, reply: DataCenterSession.PendingReply)] = []
            for share in shares(jobs) { pending.append((share.names.count, try await share.session.post(.jobsCancelMany, JobsCancelManyRequest(jobs: share.names)))) }
            for (count, reply) in pending where (try? await reply.value()) == nil { cancelRefused += count }
        }
        let sightings = try await waitUntil(jobs) { $0.ended != nil }
        let ends = sightings.compactMap { $0.ended.map { ($0 - cancelling).seconds } }.sorted()
        let cancelled = sightings.filter { $0.state == .cancelled }.count
        let share = Self.share(ends, within: Self.completionTarget, of: hosts.count)
        Output.line(
            "cancel of \(jobs.count) running jobs (\(refused) refused to start, \(cancelRefused) cancels refused): \(cancelled) cancelled, p50 \(Self.ms(ends, 50)) p99 \(Self.ms(ends, 99)) all \(Self.ms(ends, 100)) ms, \(Self.percent(share)) within \(Self.completionTarget) s"
        )
        return [
            ("cancel_jobs", .int(jobs.count)),
            ("cancel_refused", .int(cancelRefused)),
            ("cancelled", .int(cancelled)),
            ("cancel_p50_ms", .double(Self.ms(ends, 50))),
            ("cancel_p99_ms", .double(Self.ms(ends, 99))),
            ("cancel_all_ms", .double(Self.ms(ends, 100))),
            ("cancel_within_target", .double(share)),
        ]
    }

    /// Sends the jobs of `action` for every host without waiting in between, then collects the job ids.
    private func start(_ action: String) async throws -> (started: ContinuousClock.Instant, jobs: [String], refused: Int) {
        let started = ContinuousClock.now
        let timeout = Int(wait) + 60
        var jobs: [String] = []
        var refused = 0
        if perJob {
            var pending: [DataCenterSession.PendingReply] = []
            for (index, host) in hosts.enumerated() {
                pending.append(try await session(for: index).post(.jobsRun, JobsRunRequest(host: host, action: action, timeoutSeconds: timeout)))
            }
            for reply in pending {
                if let job = try? await reply.value().payload(JobReply.self).job.id { jobs.append(job) } else { refused += 1 }
            }
        } else {
            var pending: [(count: Int, reply: DataCenterSession.PendingReply)] = []
            for share in shares(hosts) {
                let request = JobsRunManyRequest(hosts: share.names, action: action, timeoutSeconds: timeout)
                pending.append((share.names.count, try await share.session.post(.jobsRunMany, request)))
            }
            for (count, reply) in pending {
                if let queued = try? await reply.value().payload(JobsListReply.self).jobs { jobs += queued.map(\.id) } else { refused += count }
            }
        }
        return (started, jobs, refused)
    }

    /// The sightings of `jobs` once `done` holds for each, or when `wait` seconds have passed.
    private func waitUntil(_ jobs: [String], _ done: (OperatorObservations.JobSighting) -> Bool) async throws -> [OperatorObservations.JobSighting] {
        let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1000))
        while true {
            let sightings = observations.sightings(of: jobs)
            if sightings.allSatisfy(done) || ContinuousClock.now >= deadline { return sightings }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    private static func share(_ sortedSeconds: [Double], within limit: Double, of total: Int) -> Double {
        total == 0 ? 0 : Double(sortedSeconds.filter { $0 <= limit }.count) / Double(total)
    }

    /// The `percentile` of sorted seconds, in milliseconds (100: the largest).
    private static func ms(_ sortedSeconds: [Double], _ percentile: Double) -> Double {
        guard !sortedSeconds.isEmpty else { return 0 }
        let index = min(sortedSeconds.count - 1, Int((Double(sortedSeconds.count) * percentile / 100).rounded(.up)) - 1)
        return (sortedSeconds[max(0, index)] * 1000).rounded()
    }

    private static func percent(_ share: Double) -> String {
        String(format: "%.1f%%", share * 100)
    }
}
