import ClusterTesting
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// The supervisor's Prometheus endpoint, scraped with URLSession.
final class MetricsTests: XCTestCase {
    private var cluster: SupervisedCluster!

    override func tearDown() {
        cluster?.tearDown()
    }

    func testCountersMoveAndRestartsAreCountedByRole() async throws {
        cluster = try SupervisedCluster()
        try cluster.start()
        let report = try cluster.waitForStatus("every process answering") { report in
            report.processes.filter { $0.role != "memcached" }.allSatisfy { $0.statistics != nil }
        }
        let before = try await scrape()
        let messagesBefore = value(of: #"datacentered_gateway_messages_in_total{process="gateway-0"}"#, in: before) ?? 0

        let client = try await WebSocketTestClient.connect(port: cluster.publicPort)
        for index in 0..<5 {
            try await client.send("m\(index)")
            _ = try await client.receiveText(timeout: .seconds(10))
        }
        let doomed = try XCTUnwrap(cluster.pids(of: "worker", in: report).first)
        kill(doomed, SIGKILL)
        try cluster.waitForStatus("the worker replaced") { $0.processesByRole["worker"] == 2 && !self.cluster.pids(of: "worker", in: $0).contains(doomed) }

        let after = try await scrape()
        XCTAssertEqual(value(of: #"datacentered_gateway_messages_in_total{process="gateway-0"}"#, in: after), messagesBefore + 5, after)
        XCTAssertGreaterThanOrEqual(value(of: #"datacentered_gateway_messages_out_total{process="gateway-0"}"#, in: after) ?? 0, 5, after)
        XCTAssertEqual(value(of: #"datacentered_gateway_clients{process="gateway-0"}"#, in: after), 1, after)
        XCTAssertEqual(value(of: #"datacentered_restarts_total{role="worker"}"#, in: after), 1, after)
        XCTAssertTrue(after.contains("# TYPE datacentered_worker_events_handled_total counter"), after)
        XCTAssertTrue(after.contains("# TYPE datacentered_gateway_event_loop_lag_microseconds gauge"), after)
        XCTAssertNotNil(value(of: #"datacentered_gateway_event_loop_lag_microseconds{process="gateway-0"}"#, in: after), after)
        await client.abort()
    }

    private func scrape() async throws -> String {
        let url = URL(string: "http://127.0.0.1:\(cluster.metricsPort)/metrics")!
        let (data, response) = try await URLSession.shared.data(from: url)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        return String(decoding: data, as: UTF8.self)
    }

    /// The value of the sample line that starts with `series`.
    private func value(of series: String, in text: String) -> Int? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Int(Double($0.split(separator: " ").last!) ?? -1) }
    }
}
