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
}
