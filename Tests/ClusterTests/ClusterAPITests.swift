import ClusterTesting
import Foundation
import NIOCore
import Wire
import XCTest

/// Every cluster API call against 2 gateways and 2 workers, with clients spread over both gateways.
/// Clients a1, a2 are on gateway A; b1, b2 on gateway B.
final class ClusterAPITests: XCTestCase {
    private var cluster: TestCluster!
    private var gateways: [TestCluster.Gateway] = []
    private var workers: [ManagedProcess] = []
    private var a1: ProbeClient!, a2: ProbeClient!, b1: ProbeClient!, b2: ProbeClient!

    override func setUp() async throws {
        cluster = try TestCluster()
        gateways = [try cluster.startGateway(), try cluster.startGateway()]
        workers = [
            try cluster.startWorker(name: "probe-1", handler: "probe", extraArguments: ["--query-timeout", "1500"]),
            try cluster.startWorker(name: "probe-2", handler: "probe", extraArguments: ["--query-timeout", "1500"]),
        ]
        for worker in workers {
            for gateway in gateways { try cluster.waitUntilLinked(worker, to: gateway) }
        }
        a1 = try await ProbeClient.connect(port: gateways[0].publicPort)
        a2 = try await ProbeClient.connect(port: gateways[0].publicPort)
        b1 = try await ProbeClient.connect(port: gateways[1].publicPort)
        b2 = try await ProbeClient.connect(port: gateways[1].publicPort)
    }

    override func tearDown() async throws {
        for client in [a1, a2, b1, b2] { await client?.socket.abort() }
        cluster?.stopAll()
    }

    private func ids(_ clients: ProbeClient...) -> [String] {
        clients.map(\.id.description).sorted()
    }

    func testSendingAcrossGateways() async throws {
        try await a1.call("sendToClient", ["client": .string(b1.id.description), "text": "hello b1"])
        let toB1 = try await b1.nextPush()
        XCTAssertEqual(toB1, "hello b1")

        try await a1.call("sendToAll", ["text": "to all but a2", "exclude": [.string(a2.id.description)]])
        for client in [a1!, b1!, b2!] {
            let received = try await client.nextPush()
            XCTAssertEqual(received, "to all but a2")
        }
        try await b2.call("sendToAll", ["text": "only a2 and b1", "only": [.string(a2.id.description), .string(b1.id.description)]])
        for client in [a2!, b1!] {
            let received = try await client.nextPush()
            XCTAssertEqual(received, "only a2 and b1")
        }

        try await a1.call("bindUID", ["uid": "alice"])
        try await b2.call("bindUID", ["uid": "alice"])
        try await a2.call("sendToUID", ["uids": ["alice"], "text": "for alice"])
        for client in [a1!, b2!] {
            let received = try await client.nextPush()
            XCTAssertEqual(received, "for alice")
        }

        for client in [a1!, a2!, b1!] { try await client.call("joinGroup", ["group": "ops"]) }
        try await b2.call("sendToGroup", ["groups": ["ops"], "text": "ops but a1", "exclude": [.string(a1.id.description)]])
        for client in [a2!, b1!] {
            let received = try await client.nextPush()
            XCTAssertEqual(received, "ops but a1")
        }
        // Nothing else arrived: a2 was excluded before, a1 now, b2 is not in the group.
        for client in [a1!, a2!, b1!, b2!] {
            await XCTAssertThrowsErrorAsync(try await client.nextPush(timeout: .milliseconds(300)))
        }
    }

    func testRawSendSkipsTheWebSocketEncoding() async throws {
        try await a1.call("sendRawFrame", ["client": .string(b1.id.description), "text": "framed by the worker"])
        let frame = try await b1.socket.receive()
        XCTAssertEqual(frame.opcode, .text)
        XCTAssertEqual(String(buffer: frame.data), "framed by the worker")
    }

    func testMembershipQueriesAreCompleteAcrossGateways() async throws {
        try await a1.call("bindUID", ["uid": "u1"])
        try await b1.call("bindUID", ["uid": "u1"])
        try await a2.call("bindUID", ["uid": "u2"])
        try await a1.call("joinGroup", ["group": "g1"])
        try await b1.call("joinGroup", ["group": "g1"])
        try await a2.call("joinGroup", ["group": "g2"])
        try await b2.call("joinGroup", ["group": "g2"])  // b2 has a group but no uid

        let onA1 = a1!
        let online = try await onA1.call("isOnline", ["client": .string(b2.id.description)])
        XCTAssertEqual(online, true)
        let u1Online = try await onA1.call("isUIDOnline", ["uid": "u1"])
        XCTAssertEqual(u1Online, true)
        let batchOnline = try await onA1.call("isUIDsOnline", ["uids": ["u1", "u2", "nobody"]])
        XCTAssertEqual(batchOnline, ["u1": true, "u2": true, "nobody": false])
        let u1Clients = try await onA1.call("getClientIDByUID", ["uid": "u1"])
        XCTAssertEqual(u1Clients.sortedStrings, ids(a1, b1))
        let byUIDs = try await onA1.call("getClientIDsByUIDs", ["uids": ["u1", "u2"]])
        XCTAssertEqual(byUIDs["u1"]?.sortedStrings, ids(a1, b1))
        XCTAssertEqual(byUIDs["u2"]?.sortedStrings, ids(a2))
        let uidOfB1 = try await onA1.call("getUIDByClientID", ["client": .string(b1.id.description)])
        XCTAssertEqual(uidOfB1, "u1")
        let uidOfB2 = try await onA1.call("getUIDByClientID", ["client": .string(b2.id.description)])
        XCTAssertEqual(uidOfB2, .null)

        let all = try await onA1.call("getAllClientIDList")
        XCTAssertEqual(all.sortedStrings, ids(a1, a2, b1, b2))
        let allCount = try await onA1.call("getAllClientCount")
        XCTAssertEqual(allCount, 4)
        let g1 = try await onA1.call("getClientIDListByGroup", ["group": "g1"])
        XCTAssertEqual(g1.sortedStrings, ids(a1, b1))
        let g2Count = try await onA1.call("getClientCountByGroup", ["group": "g2"])
        XCTAssertEqual(g2Count, 2)
        let counts = try await onA1.call("getClientCountsByGroups", ["groups": ["g1", "g2", "none"]])
        XCTAssertEqual(counts, ["g1": 2, "g2": 2, "none": 0])
        let g1UIDs = try await onA1.call("getUIDListByGroup", ["group": "g1"])
        XCTAssertEqual(g1UIDs.sortedStrings, ["u1"])
        let g2UIDCount = try await onA1.call("getUIDCountByGroup", ["group": "g2"])
        XCTAssertEqual(g2UIDCount, 1)
        let allUIDs = try await onA1.call("getAllUIDList")
        XCTAssertEqual(allUIDs.sortedStrings, ["u1", "u2"])
        let allUIDCount = try await onA1.call("getAllUIDCount")
        XCTAssertEqual(allUIDCount, 2)
        let groups = try await onA1.call("getAllGroupIDList")
        XCTAssertEqual(groups.sortedStrings, ["g1", "g2"])
        let groupUIDs = try await onA1.call("getAllGroupUIDList")
        XCTAssertEqual(groupUIDs["g1"]?.sortedStrings, ["u1"])
        XCTAssertEqual(groupUIDs["g2"]?.sortedStrings, ["u2"])
        let groupUIDCounts = try await onA1.call("getAllGroupUIDCount")
        XCTAssertEqual(groupUIDCounts, ["g1": 1, "g2": 1])
        let groupClients = try await onA1.call("getAllGroupClientIDList")
        XCTAssertEqual(groupClients["g1"]?.sortedStrings, ids(a1, b1))
        XCTAssertEqual(groupClients["g2"]?.sortedStrings, ids(a2, b2))
        let groupClientCounts = try await onA1.call("getAllGroupClientIDCount")
        XCTAssertEqual(groupClientCounts, ["g1": 2, "g2": 2])

        try await b1.call("leaveGroup", ["group": "g1"])
        try await a1.call("unbindUID", ["uid": "u1"])
        try await b2.call("ungroup", ["group": "g2"])
        let g1After = try await onA1.call("getClientIDListByGroup", ["group": "g1"])
        XCTAssertEqual(g1After.sortedStrings, ids(a1))
        let u1After = try await onA1.call("getClientIDByUID", ["uid": "u1"])
        XCTAssertEqual(u1After.sortedStrings, ids(b1))
        let groupsAfter = try await onA1.call("getAllGroupIDList")
        XCTAssertEqual(groupsAfter.sortedStrings, ["g1"])
    }

    func testSessionsAcrossWorkersAndGateways() async throws {
        try await a1.call("setSession", ["client": .string(b1.id.description), "session": ["role": "operator", "prefs": ["a": 1]]])
        let session = try await a2.call("getSession", ["client": .string(b1.id.description)])
        XCTAssertEqual(session, ["role": "operator", "prefs": ["a": 1]])
        try await a1.call("updateSession", ["client": .string(b1.id.description), "session": ["prefs": ["b": 2]]])
        let merged = try await b2.call("getSession", ["client": .string(b1.id.description)])
        XCTAssertEqual(merged, ["role": "operator", "prefs": ["a": 1, "b": 2]])
        // The client's own next event sees it, whichever worker handles it.
        let whoami = try await b1.call("whoami")
        XCTAssertEqual(whoami["session"], merged)

        // A handler's change to the current session is visible to the client's next event.
        try await a1.call("setCurrentSession", ["key": "step", "value": 1])
        let next = try await a1.call("whoami")
        XCTAssertEqual(next["session"]?["step"], 1)
        let fromElsewhere = try await b2.call("getSession", ["client": .string(a1.id.description)])
        XCTAssertEqual(fromElsewhere["step"], 1)

        let offline = ClientID(gatewayIP: a1.id.gatewayIP, gatewayPort: a1.id.gatewayPort, connectionNumber: 999_999)
        let offlineSession = try await a1.call("getSession", ["client": .string(offline.description)])
        XCTAssertEqual(offlineSession, .null)
        do {
            try await a1.call("getSession", ["client": "not-a-client-id"])
            XCTFail("a malformed id must be refused")
        } catch {
            XCTAssertTrue("\(error)".contains("is not a client id"), "\(error)")
        }
    }

    func testCloseWithLastMessageAndDestroy() async throws {
        try await a1.call("closeClient", ["client": .string(b1.id.description), "text": "goodbye"])
        let last = try await b1.nextPush()
        XCTAssertEqual(last, "goodbye")
        let code = try await b1.socket.waitForClose()
        XCTAssertEqual(code, .normalClosure)

        try await a1.call("destroyClient", ["client": .string(b2.id.description)])
        _ = try await b2.socket.waitForClose()
        XCTAssertFalse(b2.socket.isOpen)
        let b2Online = try await a1.call("isOnline", ["client": .string(b2.id.description)])
        XCTAssertEqual(b2Online, false)
    }

    func testTimerAndChannelCrossWorkers() async throws {
        try await a1.call("timer", ["afterMilliseconds": 50, "text": "tick"])
        let tick = try await a1.nextPush()
        XCTAssertTrue(tick.hasPrefix("tick from timer on probe-"), tick)

        try await a1.call("publish", ["client": .string(b2.id.description), "text": "channel"])
        let first = try await b2.nextPush()
        let second = try await b2.nextPush()
        let senders = Set([first, second].map { $0.replacingOccurrences(of: "channel from ", with: "").split(separator: ":").first.map(String.init) ?? "" })
        XCTAssertEqual(senders, ["probe-1", "probe-2"], "every worker's subscriber got the event: \(first), \(second)")
    }

    func testGlobalDataIsSharedByEveryWorker() async throws {
        // Clients on both gateways, stuck to both workers (round-robin), count on one key.
        var counts: [Int] = []
        var workers: Set<String> = []
        for client in [a1!, a2!, b1!, b2!] {
            counts.append(try await client.call("incrementGlobal", ["key": "visits"]).intValue ?? -1)
            workers.insert(String(try await client.call("whoami")["worker"]?.stringValue?.split(separator: ":").first ?? ""))
        }
        XCTAssertEqual(counts, [1, 2, 3, 4])
        XCTAssertEqual(workers, ["probe-1", "probe-2"])
    }

    func testAQueryNamesTheGatewayThatDoesNotAnswerAndKeepsTheOthersAnswers() async throws {
        try gateways[1].process.freeze()
        defer { gateways[1].process.thaw() }
        let request: JSONValue = ["id": 7, "call": "getAllClientCount"]
        try await a1.socket.send(String(decoding: try JSONEncoder().encode(request), as: UTF8.self))
        let reply = try JSONDecoder().decode(JSONValue.self, from: Data(try await a1.socket.receiveText(timeout: .seconds(10)).utf8))
        let error = reply["error"]?.stringValue ?? ""
        XCTAssertTrue(error.contains(gateways[1].lanAddress), error)
        XCTAssertFalse(error.contains(gateways[0].lanAddress), error)
        XCTAssertEqual(reply["partial"], 2, "gateway A's two clients are still counted")
    }
}
