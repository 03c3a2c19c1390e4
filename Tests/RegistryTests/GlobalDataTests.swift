import ClusterTesting
import Registry
import XCTest

final class GlobalDataTests: XCTestCase {
    private var server: MemcachedServer!
    private var client: MemcachedClient!
    private var data: GlobalData!

    override func setUp() async throws {
        server = try MemcachedServer()
        client = try MemcachedClient(configuration: MemcachedConfiguration(servers: [server.address]))
        data = GlobalData(client: client)
    }

    override func tearDown() async throws {
        await client?.shutdown()
        server?.stop()
        client = nil
        server = nil
    }

    private struct Stats: Codable, Equatable, Sendable {
        var online: Int
        var hosts: [String]
    }

    func testRoundTripsUnderItsOwnPrefix() async throws {
        try await data.set("motd", Array("hello".utf8))
        let value = try await data.get("motd")
        XCTAssertEqual(value, Array("hello".utf8))
        let raw = try await client.get("dc:global:motd")
        XCTAssertEqual(raw, Array("hello".utf8))
        let added = try await data.add("motd", [1])
        XCTAssertFalse(added)
        let deleted = try await data.delete("motd")
        XCTAssertTrue(deleted)
        let missing = try await data.get("motd")
        XCTAssertNil(missing)

        let none = try await data.increment("count")
        XCTAssertNil(none)
        let first = try await data.increment("count", by: 1, initial: 0)
        let second = try await data.increment("count", by: 1, initial: 0)
        XCTAssertEqual([first, second], [0, 1])
    }

    func testAppendAddsToTheEndOfWhatIsThere() async throws {
        let missing = try await data.append("log", Array("a".utf8))
        XCTAssertFalse(missing, "an append created the item")
        try await data.set("log", Array("a".utf8))
        let appended = try await data.append("log", Array("b".utf8))
        XCTAssertTrue(appended)
        let value = try await data.get("log")
        XCTAssertEqual(value, Array("ab".utf8))
        let cut = try await data.update("log") { Array(($0 ?? []).suffix(1)) + Array("c".utf8) }
        XCTAssertEqual(cut, Array("bc".utf8))
    }

    func testJSON() async throws {
        let stats = Stats(online: 3, hosts: ["vps-1", "vps-2"])
        try await data.set("stats", json: stats)
        let back = try await data.get("stats", as: Stats.self)
        XCTAssertEqual(back, stats)
        let missing = try await data.get("nothing", as: Stats.self)
        XCTAssertNil(missing)
    }

    func testCasConflict() async throws {
        let otherClient = try MemcachedClient(configuration: MemcachedConfiguration(servers: [server.address]))
        let other = GlobalData(client: otherClient)
        try await data.set("doc", Array("v1".utf8))
        let mine = try await data.gets("doc")
        let theirs = try await other.gets("doc")
        let mineRead = try XCTUnwrap(mine)
        let theirsRead = try XCTUnwrap(theirs)
        XCTAssertEqual(mineRead.cas, theirsRead.cas)
        let theyWon = try await other.cas("doc", Array("theirs".utf8), cas: theirsRead.cas)
        XCTAssertTrue(theyWon)
        let iLost = try await data.cas("doc", Array("mine".utf8), cas: mineRead.cas)
        XCTAssertFalse(iLost)
        let value = try await data.get("doc")
        XCTAssertEqual(value, Array("theirs".utf8))
        await otherClient.shutdown()
    }

    func testConcurrentUpdatesLoseNothing() async throws {
        let data = self.data!
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    _ = try await data.update("stats", as: Stats.self) { current in
                        var stats = current ?? Stats(online: 0, hosts: [])
                        stats.online += 1
                        stats.hosts.append("vps-\(index)")
                        return stats
                    }
                }
            }
            try await group.waitForAll()
        }
        let stats = try await data.get("stats", as: Stats.self)
        XCTAssertEqual(stats?.online, 20)
        XCTAssertEqual(Set(stats?.hosts ?? []).count, 20)
    }

    func testInvalidKeyIsAClearError() async throws {
        do {
            try await data.set("two words", [1])
            XCTFail("a key with a space must be refused")
        } catch let error as MemcachedError {
            XCTAssertTrue(error.isInvalidKey)
            XCTAssertTrue(error.description.contains("\"dc:global:two words\""), error.description)
            XCTAssertTrue(error.description.contains("space"), error.description)
        }
    }
}
