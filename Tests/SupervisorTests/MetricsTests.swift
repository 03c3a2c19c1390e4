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
        XCTAssertTrue(after.contains("# TYPE datacentered_worker_event_loop_lag_microseconds gauge"), after)
        XCTAssertTrue(after.contains(#"datacentered_worker_event_loop_lag_microseconds{process="worker-"#), after)
        await client.abort()
    }

    /// Bytes, closes by code, held and redelivered events, as the master gathers them. One worker
    /// with a one-byte backlog: stopped (SIGSTOP), it takes one event and leaves the next waiting at
    /// the gateway; killed, its unacknowledged events go to the worker that replaces it.
    func testBytesClosesByCodeAndHeldEventsMove() async throws {
        cluster = try SupervisedCluster(configuration: [
            "worker": ["count": 1], "gateway": ["extraArguments": ["--max-worker-backlog", "1", "--max-message-size", "64"]],
        ])
        try cluster.start()
        let report = try cluster.waitForStatus("every process answering") { report in
            report.processes.filter { $0.role != "memcached" }.allSatisfy { $0.statistics != nil }
        }
        let gateway = #"{process="gateway-0"}"#
        let before = try await scrape()
        let bytesInBefore = try XCTUnwrap(value(of: "datacentered_gateway_bytes_in_total" + gateway, in: before), before)
        let bytesOutBefore = try XCTUnwrap(value(of: "datacentered_gateway_bytes_out_total" + gateway, in: before), before)

        // A 5-byte text message is an 11-byte masked frame in, a 7-byte frame back.
        let polite = try await WebSocketTestClient.connect(port: cluster.publicPort)
        try await polite.send("hello")
        let echo = try await polite.receiveText(timeout: .seconds(10))
        XCTAssertEqual(echo, "hello")
        await polite.close()
        let rude = try await WebSocketTestClient.connect(port: cluster.publicPort)
        await rude.abort()
        let verbose = try await WebSocketTestClient.connect(port: cluster.publicPort)
        try await verbose.send(String(repeating: "x", count: 65))
        let tooLarge = try await verbose.waitForClose(timeout: .seconds(10))
        XCTAssertEqual(tooLarge, .messageTooLarge)
        let closed = try await scrape(until: "the 1000 and the 1006 received and the 1009 sent counted") {
            self.value(of: #"datacentered_gateway_closes_received_total{process="gateway-0",code="1000"}"#, in: $0) == 1
                && self.value(of: #"datacentered_gateway_closes_received_total{process="gateway-0",code="1006"}"#, in: $0) == 1
                && self.value(of: #"datacentered_gateway_closes_sent_total{process="gateway-0",code="1009"}"#, in: $0) == 1
        }
        XCTAssertGreaterThanOrEqual(value(of: "datacentered_gateway_bytes_in_total" + gateway, in: closed) ?? 0, bytesInBefore + 11 + 8, closed)
        XCTAssertGreaterThanOrEqual(value(of: "datacentered_gateway_bytes_out_total" + gateway, in: closed) ?? 0, bytesOutBefore + 7 + 4, closed)
        let status = try XCTUnwrap(try cluster.status().processes.first { $0.name == "gateway-0" }?.statistics)
        XCTAssertGreaterThanOrEqual(status.counters["bytesIn"] ?? 0, bytesInBefore + 19)
        XCTAssertEqual(status.labelledCounters["closesReceivedByCode"]?["1000"], 1)
        let table = try cluster.command(["status"]).standardOutput
        XCTAssertTrue(table.contains("BYTES-IN/OUT") && table.contains("HELD"), table)

        let client = try await WebSocketTestClient.connect(port: cluster.publicPort)
        try await client.send("m0")
        let first = try await client.receiveText(timeout: .seconds(10))
        XCTAssertEqual(first, "m0")
        // m0 acknowledged first, or it would be redelivered (and answered) again.
        _ = try await scrape(until: "m0 acknowledged") { self.value(of: "datacentered_gateway_events_unacknowledged" + gateway, in: $0) == 0 }
        let worker = try XCTUnwrap(cluster.pids(of: "worker", in: report).first)
        kill(worker, SIGSTOP)
        for index in 1...3 { try await client.send("m\(index)") }
        let held = try await scrape(until: "events held for the stopped worker") {
            (self.value(of: "datacentered_gateway_events_waiting_for_worker" + gateway, in: $0) ?? 0) >= 2
        }
        XCTAssertEqual(value(of: "datacentered_gateway_events_unacknowledged" + gateway, in: held), 1, "m1, taken by the link\n\(held)")
        XCTAssertEqual(value(of: "datacentered_gateway_events_waiting_for_worker" + gateway, in: held), 2, "m2 and m3\n\(held)")
        kill(worker, SIGKILL)
        for index in 1...3 {
            let answer = try await client.receiveText(timeout: .seconds(15))
            XCTAssertEqual(answer, "m\(index)", "nothing lost, nothing twice, in order")
        }
        let after = try await scrape(until: "nothing held any more") {
            self.value(of: "datacentered_gateway_events_unacknowledged" + gateway, in: $0) == 0
                && self.value(of: "datacentered_gateway_events_waiting_for_worker" + gateway, in: $0) == 0
        }
        XCTAssertGreaterThanOrEqual(value(of: "datacentered_gateway_redelivered_events_total" + gateway, in: after) ?? 0, 1, after)
        XCTAssertGreaterThanOrEqual(value(of: #"datacentered_worker_redelivered_events_total{process="worker-0"}"#, in: after) ?? 0, 1, after)
        XCTAssertTrue(after.contains("# TYPE datacentered_gateway_events_waiting_for_worker gauge"), after)
        XCTAssertTrue(after.contains("# TYPE datacentered_gateway_closes_received_total counter"), after)
        await client.abort()
    }

    /// Scrapes until `condition` holds (bounded), and returns that scrape.
    private func scrape(until what: String, timeout: Duration = .seconds(20), _ condition: @escaping (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = try await scrape()
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure("timed out waiting for \(what); last scrape:\n\(last)")
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
