import Client
import ClusterTesting
import Foundation
import Logging
import NIOCore
import Registry
import Wire
import XCTest

/// Other services: `datacentered push` and the Swift GatewayClient against 2 gateways and 2 workers.
final class PushTests: XCTestCase {
    private var cluster: TestCluster!
    private var gateways: [TestCluster.Gateway] = []
    private var a: ProbeClient!, b: ProbeClient!

    override func setUp() async throws {
        cluster = try TestCluster()
        gateways = [try cluster.startGateway(), try cluster.startGateway()]
        for name in ["probe-1", "probe-2"] {
            let worker = try cluster.startWorker(name: name, handler: "probe")
            for gateway in gateways { try cluster.waitUntilLinked(worker, to: gateway) }
        }
        a = try await ProbeClient.connect(port: gateways[0].publicPort)
        b = try await ProbeClient.connect(port: gateways[1].publicPort)
        try await a.call("bindUID", ["uid": "alice"])
        try await a.call("joinGroup", ["group": "ops"])
        try await b.call("joinGroup", ["group": "ops"])
        try await b.call("setCurrentSession", ["key": "role", "value": "viewer"])
    }

    override func tearDown() async throws {
        await a?.socket.abort()
        await b?.socket.abort()
        cluster?.stopAll()
    }

    private func push(_ arguments: [String], secretKey: String? = nil) throws -> CommandRunner.Outcome {
        try CommandRunner.run(
            TestCluster.binaryPath,
            ["push"] + arguments + ["--memcached", cluster.memcached.address],
            environment: ["DATACENTERED_SECRET_KEY": secretKey ?? cluster.secretKey]
        )
    }

    private func pushOutput(_ arguments: [String]) throws -> String {
        let outcome = try push(arguments)
        XCTAssertEqual(outcome.status, 0, outcome.output)
        return outcome.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testPushSendsToClientUIDGroupAndAll() async throws {
        _ = try pushOutput(["send", "--client", b.id.description, "to b"])
        let toB = try await b.nextPush()
        XCTAssertEqual(toB, "to b")
        _ = try pushOutput(["send", "--uid", "alice", "to alice"])
        let toAlice = try await a.nextPush()
        XCTAssertEqual(toAlice, "to alice")
        _ = try pushOutput(["send", "--group", "ops", "--exclude", a.id.description, "ops but a"])
        let toOps = try await b.nextPush()
        XCTAssertEqual(toOps, "ops but a")
        _ = try pushOutput(["send", "--all", "everyone"])
        for client in [a!, b!] {
            let received = try await client.nextPush()
            XCTAssertEqual(received, "everyone")
        }
        await XCTAssertThrowsErrorAsync(try await a.nextPush(timeout: .milliseconds(300)))
    }

    func testPushQueries() async throws {
        XCTAssertEqual(try pushOutput(["online", "--client", a.id.description]), "true")
        XCTAssertEqual(try pushOutput(["online", "--uid", "alice"]), "true")
        XCTAssertEqual(try pushOutput(["online", "--uid", "bob"]), "false")
        XCTAssertEqual(try pushOutput(["count"]), "2")
        XCTAssertEqual(try pushOutput(["count", "--group", "ops"]), "2")
        XCTAssertEqual(try pushOutput(["clients", "--uid", "alice"]), a.id.description)
        XCTAssertEqual(Set(try pushOutput(["clients", "--group", "ops"]).split(separator: "\n").map(String.init)), [a.id.description, b.id.description])
        XCTAssertEqual(try pushOutput(["uids"]), "alice")
        XCTAssertEqual(try pushOutput(["groups"]), "ops")
        XCTAssertEqual(try pushOutput(["session", b.id.description]), #"{"role":"viewer"}"#)
        let malformed = try push(["session", "nonsense"])
        XCTAssertNotEqual(malformed.status, 0)
        XCTAssertTrue(malformed.standardError.contains("is not a client id"), malformed.output)
    }

    func testPushWithAWrongKeyIsRefusedClearly() async throws {
        let wrongKey = "wrong-\(UUID().uuidString)"
        let outcome = try push(["count"], secretKey: wrongKey)
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.standardError.contains("refused the link: wrong secret key"), outcome.output)
        try gateways[0].process.waitForOutput(containing: "refused worker link", timeout: .seconds(5))
        for gateway in gateways {
            XCTAssertFalse(gateway.process.output.contains(wrongKey), "the offered key appears in a gateway log")
        }
    }

    func testSwiftGatewayClient() async throws {
        let memcached = try MemcachedClient(configuration: MemcachedConfiguration(servers: [cluster.memcached.address]))
        let client = try GatewayClient(
            registry: GatewayRegistry(client: memcached),
            secretKey: cluster.secretKey,
            logger: Logger(label: "test")
        )
        let api = client.api
        let count = try await api.getAllClientCount()
        XCTAssertEqual(count, 2)
        let aliceClients = try await api.getClientIDs(forUID: "alice")
        XCTAssertEqual(aliceClients, [a.id])
        try await api.sendToClient(b.id, "from the Swift client")
        let received = try await b.nextPush()
        XCTAssertEqual(received, "from the Swift client")
        let session = try await api.getSession(b.id)
        XCTAssertEqual(session, ["role": "viewer"])
        await client.shutdown()
        await memcached.shutdown()
    }
}
