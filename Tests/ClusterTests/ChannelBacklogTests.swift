import ClusterTesting
import Foundation
import Wire
import XCTest

/// Channel events are not acknowledged, so nothing upstream bounds how many wait at a busy worker:
/// the worker bounds them in bytes, dropping and counting past that.
final class ChannelBacklogTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testChannelEventsPastTheBacklogAreDroppedAndCounted() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        // One byte: the first waiting event always fits, every other one waiting with it is dropped.
        let busy = try cluster.startWorker(name: "busy", handler: "probe", extraArguments: ["--max-channel-event-backlog", "1", "--stats-interval", "0.2"])
        try cluster.waitUntilLinked(busy, to: gateway)
        let sleeper = try await ProbeClient.connect(port: gateway.publicPort)
        let publisher = try cluster.startWorker(name: "publisher", handler: "probe")
        try cluster.waitUntilLinked(publisher, to: gateway)
        let client = try await ProbeClient.connect(port: gateway.publicPort)
        let whoami = try await client.call("whoami")
        XCTAssertTrue(whoami["worker"]?.stringValue?.hasPrefix("publisher") ?? false, "\(whoami)")

        // The busy worker handles one event at a time: while it sleeps, Channel events wait for it.
        try await sleeper.socket.send(#"{"id":1,"call":"sleep","args":{"milliseconds":2000}}"#)
        for index in 0..<5 {
            try await client.call("publish", ["client": .string(client.id.description), "text": .string("event \(index)")])
        }
        try busy.waitForOutput(containing: "channel_events_dropped=4", timeout: .seconds(10))
        try busy.waitForOutput(containing: "Channel event dropped", timeout: .seconds(5))
    }
}
