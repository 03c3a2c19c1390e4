import ClusterTesting
@testable import DataCenter
import DataCenterProtocol
import Registry
import XCTest

/// The host store's items, against a real memcached.
final class HostStoreTests: XCTestCase {
    func testAWholeStateStoredBeforeSectionsHadItemsStillReadsUnderNewReports() async throws {
        let server = try MemcachedServer()
        defer { server.stop() }
        let client = try MemcachedClient(configuration: MemcachedConfiguration(servers: [server.address]))
        let data = GlobalData(client: client)
        let hosts = HostStore(data: data)
        let earlier = Timestamp(Date(timeIntervalSince1970: 1_796_197_265.5))
        let vps = [VPSEntry(name: "vps101", state: "running", technology: "lxc", ips: ["10.0.0.5"])]
        let legacy = HostState(host: "h", online: true, lastReportAt: earlier, cpu: CPUReport(total: 1, cores: [1]), vps: vps, ipMap: ["10.0.0.5": "vps101"])
        try await data.set("dc.host:h", json: legacy)
        let read = try await hosts.state(of: "h")
        XCTAssertEqual(read, legacy)

        let cpu = HostReport.cpu(CPUReport(total: 50, cores: [50]))
        let now = Timestamp.now
        try await hosts.setReport(try cpu.encoded(), .cpu, of: "h", at: now.description)
        let wasOnline = try await hosts.setOnline(false, of: "h")
        XCTAssertTrue(wasOnline)
        let after = try await hosts.state(of: "h")
        let state = try XCTUnwrap(after)
        XCTAssertFalse(state.online)
        XCTAssertEqual(state.cpu?.total, 50)
        XCTAssertEqual(state.vps, vps, "what the old item held was lost")
        XCTAssertEqual(state.lastReportAt?.description, now.description)
        await client.shutdown()
    }
}
