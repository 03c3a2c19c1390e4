@testable import DataCenter
import DataCenterProtocol
import Foundation
import XCTest

/// A report's stored bytes and the `host.changed` built around them, without encoding it twice.
final class HostReportTests: XCTestCase {
    private let reports: [HostReport] = [
        .info(
            HostInfoReport(
                hostname: "node-1", os: "Debian", kernel: "6.1", cpuModel: "Xeon \"E5\"", cpuCount: 2, memoryTotal: 100,
                memoryAvailable: 40, disks: [DiskUsage(mount: "/", total: 10, free: 5)], uptimeSeconds: 12.5, load: [1, 2, 3],
                ioWaitPercent: 0.5)),
        .cpu(CPUReport(total: 12.5, cores: [10, 15])),
        .bandwidth(BandwidthReport(interfaces: [TrafficCounters(name: "eth0", rxBytes: 1, txBytes: 2, rxRate: 3, txRate: 4)])),
        .vps(VPSReport(vps: [VPSEntry(name: "vps101", state: "running", technology: "lxc", ips: ["10.0.0.5"])], ipMap: ["10.0.0.5": "vps101", "10.0.0.6": "vps101"])),
    ]

    func testTheChangeEventCarriesTheHostTheTimeAndOnlyTheReport() throws {
        let at = Timestamp(Date(timeIntervalSince1970: 1_764_660_065.5))
        for report in reports {
            let encoded = try report.encoded()
            XCTAssertEqual(try HostReport(report.section, decoding: encoded), report)
            let text = Envelope.event(.hostChanged, json: report.changeJSON(host: "node-1", at: at.description, encoded: encoded))
            let message = try InboundMessage.decode(text).get()
            XCTAssertEqual(message.kind, .event(name: "host.changed"))
            var expected = HostChange(host: "node-1")
            expected.lastReportAt = at
            report.apply(to: &expected)
            XCTAssertEqual(try message.payload(HostChange.self), expected, "\(report.section)")
        }
    }

    func testEqualReportsEncodeToEqualBytes() throws {
        let ipMap = (0..<50).map { ("10.0.0.\($0)", "vps\($0)") }
        let one = HostReport.vps(VPSReport(vps: [], ipMap: Dictionary(uniqueKeysWithValues: ipMap)))
        let other = HostReport.vps(VPSReport(vps: [], ipMap: Dictionary(uniqueKeysWithValues: ipMap.reversed())))
        XCTAssertEqual(try one.encoded(), try other.encoded())
    }
}

extension HostReport {
    /// What a `host.changed` of this report reads as, built field by field: the oracle for the bytes
    /// that `changeJSON` writes around the stored report.
    fileprivate func apply(to change: inout HostChange) {
        switch self {
        case .info(let report): change.info = report
        case .cpu(let report): change.cpu = report
        case .bandwidth(let report): change.bandwidth = report
        case .vps(let report):
            change.vps = report.vps
            change.ipMap = report.ipMap
        }
    }
}
