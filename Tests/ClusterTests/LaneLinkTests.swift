import Client
import ClusterTesting
import Foundation
import Logging
import NIOCore
import Registry
import Wire
import XCTest

/// Gateways with two event loops (their default is one per core): a worker links to each loop, every
/// client's events and the commands about it stay on the link of the client's own loop, and a client
/// sees one handler's sends to it, to everyone, to a group and to a uid in the order they were made.
final class LaneLinkTests: XCTestCase {
    private static let eventLoops = 2
    private static let lanes = ConnectionLanes(count: eventLoops)
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testEachClientIsServedByTheLinkOfItsOwnLoop() async throws {
        let gateway = try startGatewayAndProbeWorker()
        var clients: [ProbeClient] = []
        for _ in 0..<4 { clients.append(try await ProbeClient.connect(port: gateway.publicPort)) }
        // Connection numbers are striped over the loops, and accepted connections go to the loops in turn.
        XCTAssertEqual(Set(clients.map { Self.lanes.lane(of: $0.id.connectionNumber) }), [0, 1])

        for (index, client) in clients.enumerated() {
            for _ in 0..<3 {
                let whoami = try await client.call("whoami")
                XCTAssertEqual(whoami["client"]?.stringValue, client.id.description)
            }
            try await client.call("sendToClient", ["client": .string(clients[(index + 1) % clients.count].id.description), "text": .string("from \(index)")])
        }
        for (index, client) in clients.enumerated() {
            let pushed = try await client.nextPush()
            XCTAssertEqual(pushed, "from \((index + clients.count - 1) % clients.count)")
        }
        try await clients[1].call("sendToAll", ["text": "everyone"])
        for client in clients {
            let pushed = try await client.nextPush()
            XCTAssertEqual(pushed, "everyone")
        }

        // 4 whoami to connect, 12 more, 4 sends, 1 broadcast; every answer and push written.
        let counters = try await GatewayStatisticsLog.wait(for: gateway) { ($0["messages_in"] ?? 0) >= 21 && ($0["messages_out"] ?? 0) >= 29 }
        XCTAssertEqual(counters["cross_loop_events"], 0, "a client's event went to a worker link on another loop")
        XCTAssertEqual(counters["cross_loop_commands"], 0, "a command came on a link of another loop than its clients'")
        XCTAssertEqual(counters["worker_links"], 1, "one worker, however many of its links")
    }

    func testOneHandlersSendsReachAClientOnAnotherLoopInTheOrderMade() async throws {
        let gateway = try startGatewayAndProbeWorker()
        let (first, second) = try await twoClientsOnDifferentLoops(gateway)
        for (sender, receiver) in [(first, second), (second, first)] {
            try await receiver.call("joinGroup", ["group": "g"])
            try await receiver.call("bindUID", ["uid": "u"])
            let to = JSONValue.string(receiver.id.description)
            for round in 0..<20 {
                let calls: [JSONValue] = [
                    ["call": "sendToClient", "args": ["client": to, "text": .string("\(round) 1")]],
                    ["call": "sendToAll", "args": ["text": .string("\(round) 2"), "exclude": [.string(sender.id.description)]]],
                    ["call": "sendToGroup", "args": ["groups": ["g"], "text": .string("\(round) 3")]],
                    ["call": "sendToUID", "args": ["uids": ["u"], "text": .string("\(round) 4")]],
                    ["call": "sendToClient", "args": ["client": to, "text": .string("\(round) 5")]],
                    ["call": "sendToAll", "args": ["text": .string("\(round) 6"), "only": [to]]],
                ]
                try await sender.call("sequence", ["calls": .array(calls)])
                var received: [String] = []
                for _ in 0..<6 { received.append(try await receiver.nextPush()) }
                XCTAssertEqual(received, (1...6).map { "\(round) \($0)" })
            }
            try await receiver.call("leaveGroup", ["group": "g"])
            try await receiver.call("unbindUID", ["uid": "u"])
        }
        let counters = try await GatewayStatisticsLog.wait(for: gateway) { ($0["messages_out"] ?? 0) >= 2 * 20 * 6 }
        XCTAssertEqual(counters["cross_loop_commands"], 0)
    }

    /// A service's link (GatewayClient, `datacentered push`) is on loop 0 only, the registered port:
    /// its commands about a client of loop 1 cross to that loop, and a session it sets there rides on
    /// the client's next event.
    func testAServiceLinkedToOneLoopReachesAndChangesTheClientsOfEveryLoop() async throws {
        let gateway = try startGatewayAndProbeWorker()
        let (first, second) = try await twoClientsOnDifferentLoops(gateway)
        let memcached = try MemcachedClient(configuration: MemcachedConfiguration(servers: [cluster.memcached.address]))
        let service = try GatewayClient(registry: GatewayRegistry(client: memcached), secretKey: cluster.secretKey, logger: Logger(label: "test"))
        let api = service.api
        for (lane, client) in [first, second].enumerated() {
            try await api.sendToClient(client.id, .text("to lane \(lane)"))
            let pushed = try await client.nextPush()
            XCTAssertEqual(pushed, "to lane \(lane)")
            try await api.setSession(client.id, ["lane": .integer(lane)])
            let stored = try await api.getSession(client.id)
            XCTAssertEqual(stored, ["lane": .integer(lane)])
            // The session reaches the client's loop before a message sent after it does (a query's
            // answer, written on the link's loop, can overtake it).
            try await api.sendToClient(client.id, "session set")
            let notice = try await client.nextPush()
            XCTAssertEqual(notice, "session set")
            let whoami = try await client.call("whoami")
            XCTAssertEqual(whoami["session"], ["lane": .integer(lane)])
            try await api.bindUID(client.id, "u")
            try await api.joinGroup(client.id, "g")
        }
        try await api.sendToUID("u", "to the uid")
        try await api.sendToGroup("g", "to the group")
        for client in [first, second] {
            let toUID = try await client.nextPush()
            let toGroup = try await client.nextPush()
            XCTAssertEqual([toUID, toGroup], ["to the uid", "to the group"])
        }
        try await api.closeClient(second.id, lastMessage: "goodbye")
        let last = try await second.nextPush()
        XCTAssertEqual(last, "goodbye")
        let code = try await second.socket.waitForClose()
        XCTAssertEqual(code, .normalClosure)
        await service.shutdown()
        await memcached.shutdown()

        let counters = try await GatewayStatisticsLog.wait(for: gateway) { ($0["closes_sent_1000"] ?? 0) >= 1 }
        XCTAssertGreaterThan(counters["cross_loop_commands"] ?? 0, 0, "no command crossed loops: the test missed its path")
    }

    func testAWorkerThatLinksLateGetsTheWaitingEventsOfEveryLoop() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(eventLoops: Self.eventLoops)
        var clients: [WebSocketTestClient] = []
        for index in 0..<4 {
            let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
            try await client.send("\(index) before")
            clients.append(client)
        }
        let worker = try cluster.startWorker()
        try cluster.waitUntilLinked(worker, to: gateway, eventLoops: Self.eventLoops)
        for (index, client) in clients.enumerated() {
            let early = try await client.receiveText(timeout: .seconds(10))
            XCTAssertEqual(early, "\(index) before")
            try await client.send("\(index) after")
            let late = try await client.receiveText()
            XCTAssertEqual(late, "\(index) after")
        }
        for client in clients { await client.close() }
    }

    /// A gateway with two loops that logs its statistics, and a probe worker linked to both loops.
    private func startGatewayAndProbeWorker() throws -> TestCluster.Gateway {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway(eventLoops: Self.eventLoops, extraArguments: ["--stats-interval", "0.1"])
        let worker = try cluster.startWorker(name: "probe", handler: "probe")
        try cluster.waitUntilLinked(worker, to: gateway, eventLoops: Self.eventLoops)
        return gateway
    }

    /// Two probe clients, the first on loop 0 and the second on loop 1.
    private func twoClientsOnDifferentLoops(_ gateway: TestCluster.Gateway) async throws -> (ProbeClient, ProbeClient) {
        var byLane: [Int: ProbeClient] = [:]
        var spare: [ProbeClient] = []
        for _ in 0..<8 where byLane.count < 2 {
            let client = try await ProbeClient.connect(port: gateway.publicPort)
            let lane = Self.lanes.lane(of: client.id.connectionNumber)
            if byLane[lane] == nil { byLane[lane] = client } else { spare.append(client) }
        }
        for client in spare { await client.socket.close() }
        guard let first = byLane[0], let second = byLane[1] else {
            throw ProbeClient.CallError(description: "8 clients did not land on both loops")
        }
        return (first, second)
    }
}
