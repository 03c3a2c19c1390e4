import ClusterTesting
import Foundation
import NIOConcurrencyHelpers
import Supervisor
import XCTest

/// `datacentered reload`: workers replaced one at a time while clients keep talking.
final class ReloadTests: XCTestCase {
    private var cluster: SupervisedCluster!

    override func tearDown() {
        cluster?.tearDown()
    }

    func testTwoHundredClientsTalkThroughAReloadWithoutNoticing() async throws {
        cluster = try SupervisedCluster(gateways: 2)
        try cluster.start()
        let before = try cluster.waitForStatus("both workers linked to both gateways") { report in
            report.processes.filter { $0.role == "worker" }.allSatisfy { $0.statistics?.counters["gatewayLinks"] == 2 }
        }
        let gatewayPIDs = cluster.pids(of: "gateway", in: before)
        let workerPIDs = cluster.pids(of: "worker", in: before)

        let clientCount = 200
        let messagesPerClient = 80
        let lastSend = NIOLockedValueBox(ContinuousClock.now)
        let reloadEnd = NIOLockedValueBox(ContinuousClock.now)
        var clients: [WebSocketTestClient] = []
        for _ in 0..<clientCount {
            clients.append(try await WebSocketTestClient.connect(port: cluster.publicPort))
        }
        let cluster = self.cluster!
        let answers = try await withThrowingTaskGroup(of: (Int, [Int]).self) { tasks in
            for (index, client) in clients.enumerated() {
                tasks.addTask {
                    for sequence in 0..<messagesPerClient {
                        try await client.send("\(index) \(sequence)")
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    let now = ContinuousClock.now
                    lastSend.withLockedValue { $0 = max($0, now) }
                    return (index, [])
                }
                tasks.addTask {
                    var received: [Int] = []
                    while received.last != messagesPerClient - 1 {
                        let text = try await client.receiveText(timeout: .seconds(30))
                        let parts = text.split(separator: " ")
                        XCTAssertEqual(parts.first.map(String.init), "\(index)", "client \(index) got another client's answer")
                        received.append(Int(parts.last!)!)
                    }
                    return (index, received)
                }
            }
            tasks.addTask {
                try await Task.sleep(for: .milliseconds(400))
                let reload = try await cluster.commandInBackground(["reload"], timeout: .seconds(120))
                XCTAssertEqual(reload.status, 0, reload.output)
                XCTAssertTrue(reload.standardOutput.contains("2 worker(s) replaced one at a time"), reload.output)
                let now = ContinuousClock.now
                reloadEnd.withLockedValue { $0 = now }
                return (-1, [])
            }
            var answers: [Int: [Int]] = [:]
            for try await (index, received) in tasks where index >= 0 && !received.isEmpty { answers[index] = received }
            return answers
        }
        for index in 0..<clientCount {
            XCTAssertEqual(answers[index], Array(0..<messagesPerClient), "client \(index): every answer once, in order")
            XCTAssertTrue(clients[index].isOpen, "client \(index) was disconnected")
        }
        for client in clients { await client.abort() }
        XCTAssertLessThan(reloadEnd.withLockedValue { $0 }, lastSend.withLockedValue { $0 }, "the whole reload happened while the clients were sending")

        let after = try cluster.status()
        XCTAssertEqual(cluster.pids(of: "gateway", in: after), gatewayPIDs, "gateways untouched")
        XCTAssertTrue(Set(cluster.pids(of: "worker", in: after)).isDisjoint(with: workerPIDs), "every worker replaced")
        XCTAssertEqual(after.processesByRole["worker"], 2)
    }

    func testAReloadWithAnInvalidFileIsRefusedAndChangesNothing() async throws {
        cluster = try SupervisedCluster()
        try cluster.start()
        let before = try cluster.waitForStatus("every process running") { $0.processes.allSatisfy { $0.pid != nil } }
        var document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cluster.configPath))) as! [String: Any]
        document["worker"] = ["count": -1]
        try cluster.writeConfiguration(document)
        let master = try XCTUnwrap(cluster.master)
        kill(master.pid!, SIGUSR1)
        try master.waitForOutput(containing: "reload refused: configuration key 'worker.count' has the value -1", timeout: .seconds(20))
        let after = try cluster.status()
        XCTAssertEqual(after.processes.compactMap(\.pid), before.processes.compactMap(\.pid))
    }
}
