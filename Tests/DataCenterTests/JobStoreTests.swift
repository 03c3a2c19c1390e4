import ClusterTesting
@testable import DataCenter
import DataCenterProtocol
import Registry
import XCTest

/// The job store's lists, against a real memcached.
final class JobStoreTests: XCTestCase {
    func testNewestJobsKeepTheLatestThousandNewestFirst() async throws {
        let server = try MemcachedServer()
        defer { server.stop() }
        let client = try MemcachedClient(configuration: MemcachedConfiguration(servers: [server.address]))
        let jobs = JobStore(data: GlobalData(client: client))
        func records(_ count: Int) -> [JobRecord] {
            (0..<count).map { _ in
                JobRecord(id: JobStore.newID(), host: "h", action: "a", params: [:], requestedBy: "t", queuedAt: .now, timeoutSeconds: 5)
            }
        }
        let first = records(1100)
        let second = records(5)
        try await jobs.create(first, stdin: nil)
        try await jobs.create(second, stdin: nil)
        for record in records(3) { _ = try await jobs.createStarted(record) }
        let recent = try await jobs.recentJobs()
        XCTAssertEqual(recent.count, JobStore.recentLimit)
        XCTAssertEqual(Array(recent[3..<8]), second.map(\.id).reversed())
        XCTAssertEqual(recent.last, first[108].id)
        await client.shutdown()
    }

    func testAJobThatStartsOrEndsLeavesTheListsAtTheirNextWrite() async throws {
        let server = try MemcachedServer()
        defer { server.stop() }
        let client = try MemcachedClient(configuration: MemcachedConfiguration(servers: [server.address]))
        let jobs = JobStore(data: GlobalData(client: client))
        func record(on host: String) -> JobRecord {
            JobRecord(id: JobStore.newID(), host: host, action: "a", params: [:], requestedBy: "t", queuedAt: .now, timeoutSeconds: 5)
        }
        let (started, cancelled, waiting, elsewhere) = (record(on: "h"), record(on: "h"), record(on: "h"), record(on: "other"))
        try await jobs.create([started, cancelled, waiting, elsewhere], stdin: nil)
        _ = try await jobs.update(started.id) { $0.state = .running }
        _ = try await jobs.update(cancelled.id) { $0.end(.cancelled) }
        let next = record(on: "h")
        try await jobs.create([next], stdin: nil)
        let queue = try await jobs.queue(of: "h")
        XCTAssertEqual(queue, [waiting.id, next.id], "the queue keeps the jobs still queued, in order")
        let otherQueue = try await jobs.queue(of: "other")
        XCTAssertEqual(otherQueue, [elsewhere.id])

        // Pending cancels keep the jobs that have not ended.
        try await jobs.addPendingCancels([started, waiting])
        _ = try await jobs.update(waiting.id) { $0.end(.done) }
        try await jobs.addPendingCancels([next])
        let cancels = try await jobs.pendingCancels(of: "h")
        XCTAssertEqual(cancels, [started.id, next.id])

        // The unfinished jobs keep an ended one until the sweep forgets it.
        let active = try await jobs.activeJobs()
        XCTAssertEqual(Set(active), Set([started, cancelled, waiting, elsewhere, next].map(\.id)))
        try await jobs.forgetEnded([cancelled.id, waiting.id])
        let afterSweep = try await jobs.activeJobs()
        XCTAssertEqual(Set(afterSweep), Set([started, elsewhere, next].map(\.id)))
        await client.shutdown()
    }
}
