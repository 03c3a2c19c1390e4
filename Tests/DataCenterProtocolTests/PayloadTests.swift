import DataCenterProtocol
import Foundation
import XCTest

final class PayloadTests: XCTestCase {
    func testTimestampIsRFC3339InUTCAndReadsWithoutFraction() throws {
        let stamp = Timestamp(Date(timeIntervalSince1970: 0.5))
        XCTAssertEqual(String(decoding: try JSONEncoder().encode([stamp]), as: UTF8.self), #"["1970-01-01T00:00:00.500Z"]"#)
        XCTAssertEqual(try JSONDecoder().decode([Timestamp].self, from: Data(#"["1970-01-01T00:00:07Z"]"#.utf8)), [Timestamp(Date(timeIntervalSince1970: 7))])
        XCTAssertThrowsError(try JSONDecoder().decode([Timestamp].self, from: Data(#"["yesterday"]"#.utf8)))
    }

    func testTimestampTextSurvivesBeingReadAndWrittenAgain() throws {
        for _ in 0..<1000 {
            let stamp = Timestamp(Date(timeIntervalSince1970: Double.random(in: 1_700_000_000...1_900_000_000)))
            let text = try JSONEncoder().encode([stamp])
            let again = try JSONEncoder().encode(try JSONDecoder().decode([Timestamp].self, from: text))
            XCTAssertEqual(String(decoding: again, as: UTF8.self), String(decoding: text, as: UTF8.self))
        }
        XCTAssertEqual("\(Timestamp(Date(timeIntervalSince1970: 1.9996)))", "1970-01-01T00:00:02.000Z")
    }

    func testJobStatesAndFinality() throws {
        XCTAssertEqual(JobState.allCases.filter { !$0.isFinal }, [.queued, .running])
        XCTAssertEqual(String(decoding: try JSONEncoder().encode([JobState.timedOut]), as: UTF8.self), #"["timed_out"]"#)
    }

    func testHostNameValidation() {
        XCTAssertTrue(AgentAuthRequest.isValidHostName("node-7.dc_1"))
        XCTAssertFalse(AgentAuthRequest.isValidHostName(""))
        XCTAssertFalse(AgentAuthRequest.isValidHostName("a b"))
        XCTAssertFalse(AgentAuthRequest.isValidHostName("a/b"))
        XCTAssertFalse(AgentAuthRequest.isValidHostName(String(repeating: "a", count: 65)))
    }

    func testTimestampTextIsFoundationsISO8601() throws {
        let whole = Date.ISO8601FormatStyle(timeZone: .gmt)
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        let leapDay = 951_782_400_000.0  // 2000-02-29
        let samples = [0, -1, -86_400_001, leapDay, leapDay + 86_399_999, 253_402_300_799_999] + (0..<2000).map { _ in Double(Int64.random(in: -2_000_000_000_000...4_000_000_000_000)) }
        for milliseconds in samples {
            let date = Date(timeIntervalSince1970: milliseconds / 1000)
            let seconds = (milliseconds / 1000).rounded(.down)
            let expected = Date(timeIntervalSince1970: seconds).formatted(whole).dropLast() + "." + String(format: "%03d", Int(milliseconds - seconds * 1000)) + "Z"
            let text = Timestamp(date).description
            XCTAssertEqual(text, expected)
            let read = try XCTUnwrap(Timestamp(text)).date.timeIntervalSince1970
            XCTAssertEqual(read, try fractional.parse(text).timeIntervalSince1970, accuracy: 0.0005, text)
        }
    }

    func testTimestampReadsItsOwnText() {
        let at = Timestamp(Date(timeIntervalSince1970: 1_764_660_065.123))
        XCTAssertEqual(Timestamp(at.description)?.description, at.description)
        XCTAssertEqual(Timestamp("2026-12-02T07:41:05Z")?.date, Date(timeIntervalSince1970: 1_796_197_265))
        XCTAssertNil(Timestamp("yesterday"))
    }

    func testSummaryFromState() {
        let info = HostInfoReport(
            hostname: "h", os: "Debian", kernel: "6.1", cpuModel: "x", cpuCount: 2, memoryTotal: 1000, memoryAvailable: 250,
            disks: [], uptimeSeconds: 1, load: [0.5, 0.4, 0.3], ioWaitPercent: 0)
        let bandwidth = BandwidthReport(interfaces: [
            TrafficCounters(name: "eth0", rxBytes: 1, txBytes: 2, rxRate: 10, txRate: 20),
            TrafficCounters(name: "eth1", rxBytes: 1, txBytes: 2, rxRate: 1, txRate: 2),
        ])
        let state = HostState(host: "h", online: true, info: info, cpu: CPUReport(total: 40, cores: []), bandwidth: bandwidth, vps: [])
        XCTAssertEqual(
            state.summary,
            HostSummary(host: "h", online: true, lastReportAt: nil, cpu: 40, memoryUsedPercent: 75, load1: 0.5, rxRate: 11, txRate: 22, vpsCount: 0))
    }

    func testOptionalFieldsHaveDefaults() throws {
        let stdin = try JSONDecoder().decode(JobStdinRequest.self, from: Data(#"{"job":"j"}"#.utf8))
        XCTAssertEqual(stdin, JobStdinRequest(job: "j", data: "", eof: false))
        let run = try JSONDecoder().decode(JobsRunRequest.self, from: Data(#"{"host":"h","action":"a"}"#.utf8))
        XCTAssertEqual(run.params, [:])
    }
}
