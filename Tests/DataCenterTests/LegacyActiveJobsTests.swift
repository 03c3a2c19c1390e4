import ClusterTesting
import DataCenterProtocol
import Foundation
import Registry
import XCTest

/// Unfinished jobs that a version before the spread list recorded in the single `dc.jobs.active` item
/// are still swept after an upgrade: the sweep moves them into the spread items and empties the old one.
final class LegacyActiveJobsTests: DataCenterTestCase {
    func testTheSweepTakesOverTheUnfinishedJobsOfTheOldSingleList() async throws {
        dataCenter = try DataCenterTestCluster()
        let client = try MemcachedClient(configuration: MemcachedConfiguration(servers: [dataCenter.cluster.memcached.address]))
        addTeardownBlock { await client.shutdown() }
        let data = GlobalData(client: client)

        // The old layout, as the earlier version wrote it: a job left running (its host long gone),
        // one that ended, and an id whose record expired.
        let longAgo = Timestamp(Date().addingTimeInterval(-3600))
        let running = JobRecord(
            id: "j-00000000000000a1", host: "node-1", action: "uptime", params: [:], state: .running, requestedBy: "alice",
            queuedAt: longAgo, startedAt: longAgo, timeoutSeconds: 60)
        var ended = running
        ended.id = "j-00000000000000a2"
        ended.state = .done
        ended.endedAt = longAgo
        for record in [running, ended] { try await data.set("dc.job:\(record.id)", json: record) }
        try await data.set("dc.jobs.active", json: [running.id, ended.id, "j-00000000000000a3"])

        let person = try await dataCenter.operatorClient()
        let lost = try await person.jobState(running.id, .lost, timeout: .seconds(10))
        XCTAssertEqual(lost.host, "node-1")
        XCTAssertTrue(dataCenter.workers[0].output.contains("unfinished jobs of the old single list moved to the spread one"))

        // The old item is emptied and expires; no spread item names the jobs (the lost one left when it ended).
        let deadline = ContinuousClock.now + .seconds(10)
        while try await data.get("dc.jobs.active") != nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let old = try await data.get("dc.jobs.active")
        XCTAssertNil(old, "the old item is gone")
        let spread = try await data.get((0..<64).map { "dc.jobs.active.\($0)" }, as: [String].self).flatMap { $0 }
        XCTAssertEqual(spread, [])
        let shown = try await person.call(.jobsShow, JobQuery(job: ended.id), as: JobDetailReply.self)
        XCTAssertEqual(shown.job.state, .done, "an ended job is left as it was")
    }
}
