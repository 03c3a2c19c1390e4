import DataCenterProtocol
import Foundation
import Registry
import Worker

extension DataCenterHandler {
    /// The cluster-wide sweep, run once per `sweepInterval` by whichever worker takes its lease.
    static let sweepTaskName = "sweep"

    /// Starts this worker's timers: its entry in the worker roster, and its tries at the sweep's lease.
    func startSweeps(_ worker: WorkerContext) {
        let schedule = LeasedSchedule(name: Self.sweepTaskName, period: configuration.sweepInterval)
        worker.timers.add(after: schedule.checkInterval, repeats: true) { worker in
            guard let period = try await schedule.claim(for: worker.workerKey, in: worker.globalData) else { return }
            logger.debug("scheduled task fired", metadata: ["task": "\(schedule.name)", "period": "\(period)", "worker": "\(worker.workerKey)"])
            try await sweep(worker)
        }
        worker.timers.add(after: configuration.sweepInterval, repeats: true) { worker in
            try await WorkerRoster(data: worker.globalData).refresh(worker.workerKey, staleAfter: configuration.sweepInterval * 3)
        }
    }

    /// Marks offline the hosts whose agents are gone without a close (a dead gateway), answers the
    /// requests that connected agents left unanswered too long, moves the unfinished jobs of an older
    /// version's single list into the spread one, offers queued jobs to connected agents again, ends
    /// running jobs that outlived their timeout and grace, and takes the jobs that have ended off the
    /// unfinished ones.
    func sweep(_ worker: WorkerContext) async throws {
        try await markOfflineIfGone(try await HostStore(data: worker.globalData).onlineHostNames(), worker: worker)
        try await failOverdueRelayed(worker: worker)

        let migrated = try await LegacyActiveJobs(data: worker.globalData).migrate()
        if !migrated.isEmpty { logger.notice("unfinished jobs of the old single list moved to the spread one", metadata: ["jobs": "\(migrated.count)"]) }
        let jobs = JobStore(data: worker.globalData)
        let listed = try await jobs.activeJobs()
        let active = try await jobs.records(listed).filter { !$0.state.isFinal }
        let endedBefore = Set(listed).subtracting(active.map(\.id))
        let endedNow = try await sweep(active, jobs: jobs, worker: worker)
        if !endedBefore.isEmpty || !endedNow.isEmpty { try await jobs.forgetEnded(Array(endedBefore) + endedNow) }
    }

    /// Offers the queued jobs of connected agents again and ends the running jobs that are overdue.
    /// - Returns: the ids of the jobs it ended.
    private func sweep(_ active: [JobRecord], jobs: JobStore, worker: WorkerContext) async throws -> [String] {
        guard !active.isEmpty else { return [] }
        let connected = try await worker.api.getClientIDs(forUIDs: Array(Set(active.map { ConnectionRole.agentUID($0.host) })))
        let now = Timestamp.now
        var ended: [String] = []
        for record in active {
            let isConnected = !(connected[ConnectionRole.agentUID(record.host)]?.isEmpty ?? true)
            switch record.state {
            case .queued where isConnected:
                try await sendStart(record, api: worker.api, jobs: jobs)
            case .running:
                let timeout = Double(record.timeoutSeconds ?? configuration.defaultJobTimeoutSeconds)
                let deadline = (record.startedAt ?? record.queuedAt).adding(seconds: timeout + Double(configuration.jobGraceSeconds))
                guard now > deadline else { continue }
                let final: JobState = isConnected ? .timedOut : .lost
                guard let change = try await jobs.update(record.id, { if $0.state == .running { $0.end(final) } }) else { continue }
                if change.after.state.isFinal { ended.append(record.id) }
                guard change.before != change.after else { continue }
                logger.notice("job overdue", metadata: ["job": "\(record.id)", "host": "\(record.host)", "state": "\(final.rawValue)"])
                if isConnected { try await sendCancel(record, api: worker.api) }
                await pushState(change, api: worker.api)
            default:
                continue
            }
        }
        return ended
    }
}
