import ClusterTesting
import DataCenterProtocol
import Foundation
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Every host's latest figures on a datacenter worker's Prometheus endpoint, labelled by host.
final class HostMetricsTests: DataCenterTestCase {
    func testReportedFiguresAppearWithAHostLabel() async throws {
        let metricsPort = freeTCPPort()
        dataCenter = try DataCenterTestCluster(hosts: ["node-1", "node-2"], metricsPort: metricsPort)
        try dataCenter.workers[0].waitForPort(port: metricsPort)
        let person = try await dataCenter.operatorClient()
        let first = try await dataCenter.agent("node-1")
        _ = try await dataCenter.agent("node-2")
        try await first.sendEvent(.reportCPU, CPUReport(total: 12.5, cores: [10, 15]))
        try await first.sendEvent(
            .reportBandwidth,
            BandwidthReport(interfaces: [TrafficCounters(name: "eth0", rxBytes: 1000, txBytes: 2000, rxRate: 10, txRate: 20)]))
        for _ in 0..<2 { _ = try await person.event(.hostChanged, as: HostChange.self) }

        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(metricsPort)/metrics")!)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains(#"datacentered_host_cpu_busy_percent{host="node-1"} 12.5"#), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains(#"datacentered_host_online{host="node-2"} 1.0"#), lines.joined(separator: "\n"))
        XCTAssertTrue(
            lines.contains(#"datacentered_host_receive_bytes_per_second{host="node-1",kind="interface",name="eth0"} 10.0"#),
            lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.hasPrefix("datacentered_worker_") }, "the worker's own metrics are gone")
    }
}
