import ClusterTesting
import Registry
import XCTest

final class MemcachedClientTests: XCTestCase {
    private var server: MemcachedServer!
    private var client: MemcachedClient!

    override func setUp() async throws {
        server = try MemcachedServer()
        client = try MemcachedClient(configuration: MemcachedConfiguration(servers: [server.address]))
    }

    override func tearDown() async throws {
        await client?.shutdown()
        server?.stop()
        client = nil
        server = nil
    }

    func testSetGetAndMissingKey() async throws {
        let missing = try await client.get("absent")
        XCTAssertNil(missing)
        try await client.set("greeting", Array("hello".utf8))
        let value = try await client.get("greeting")
        XCTAssertEqual(value, Array("hello".utf8))
        try await client.set("greeting", [0, 1, 2, 255])
        let binary = try await client.get("greeting")
        XCTAssertEqual(binary, [0, 1, 2, 255])
        try await client.set("empty", [])
        let empty = try await client.get("empty")
        XCTAssertEqual(empty, [])
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        try await client.set("big", big)
        let bigBack = try await client.get("big")
        XCTAssertEqual(bigBack, big)
    }

    func testAddOnlyWhenAbsent() async throws {
        let first = try await client.add("once", [1])
        let second = try await client.add("once", [2])
        XCTAssertTrue(first)
        XCTAssertFalse(second)
        let value = try await client.get("once")
        XCTAssertEqual(value, [1])
    }

    func testCasFailsWhenChangedSinceRead() async throws {
        let none = try await client.gets("counter")
        XCTAssertNil(none)
        try await client.set("counter", [1])
        let read = try await client.gets("counter")
        let token = try XCTUnwrap(read).cas
        XCTAssertEqual(read?.value, [1])
        try await client.set("counter", [2])
        let stale = try await client.cas("counter", [3], cas: token)
        XCTAssertFalse(stale)
        let freshRead = try await client.gets("counter")
        let fresh = try XCTUnwrap(freshRead)
        XCTAssertEqual(fresh.value, [2])
        let swapped = try await client.cas("counter", [4], cas: fresh.cas)
        XCTAssertTrue(swapped)
        let value = try await client.get("counter")
        XCTAssertEqual(value, [4])
        let vanished = try await client.cas("nothing-here", [1], cas: fresh.cas)
        XCTAssertFalse(vanished)
    }

    func testIncrement() async throws {
        let missing = try await client.increment("hits", by: 1)
        XCTAssertNil(missing)
        try await client.set("hits", Array("41".utf8))
        let next = try await client.increment("hits", by: 1)
        XCTAssertEqual(next, 42)
        let large = try await client.increment("hits", by: 10_000_000_000)
        XCTAssertEqual(large, 10_000_000_042)

        let created = try await client.increment("fresh", by: 5, initial: 100)
        XCTAssertEqual(created, 100)
        let incremented = try await client.increment("fresh", by: 5, initial: 100)
        XCTAssertEqual(incremented, 105)

        try await client.set("text", Array("abc".utf8))
        do {
            _ = try await client.increment("text", by: 1)
            XCTFail("incrementing a non-number must throw")
        } catch let error as MemcachedError {
            XCTAssertNotNil(error.code)
            XCTAssertTrue(error.description.contains("increment \"text\""), error.description)
            XCTAssertFalse(error.description.contains("abc"), "errors never carry values")
        }
    }

    func testConcurrentIncrementWithInitialCountsEveryCall() async throws {
        let client = self.client!
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask { _ = try await client.increment("race", by: 1, initial: 1) }
            }
            try await group.waitForAll()
        }
        let value = try await client.get("race")
        XCTAssertEqual(value.map { String(decoding: $0, as: UTF8.self) }, "50")
    }

    func testDelete() async throws {
        try await client.set("doomed", [1])
        let deleted = try await client.delete("doomed")
        let again = try await client.delete("doomed")
        XCTAssertTrue(deleted)
        XCTAssertFalse(again)
        let value = try await client.get("doomed")
        XCTAssertNil(value)
    }

    func testGetMany() async throws {
        try await client.set("a", [1])
        try await client.set("b", [2])
        let values = try await client.getMany(["a", "b", "c"])
        XCTAssertEqual(values, ["a": [1], "b": [2]])
        let none = try await client.getMany([])
        XCTAssertEqual(none, [:])
        // The handle must be clean after a multi-get.
        let single = try await client.get("a")
        XCTAssertEqual(single, [1])
    }

    func testExpiration() async throws {
        try await client.set("short", [1], expiration: 1)
        let present = try await client.get("short")
        XCTAssertEqual(present, [1])
        let gone = try await eventually(timeout: .seconds(5)) { try await self.client.get("short") == nil }
        XCTAssertTrue(gone)
    }

    func testInvalidKeysAreRefusedBeforeSending() async throws {
        for key in ["has space", "", String(repeating: "k", count: 251), "new\nline", "tab\tkey"] {
            do {
                try await client.set(key, [1])
                XCTFail("key \(key.debugDescription) must be refused")
            } catch let error as MemcachedError {
                XCTAssertTrue(error.isInvalidKey, error.description)
                XCTAssertTrue(error.description.contains("invalid key"), error.description)
            }
        }
        do {
            _ = try await client.getMany(["ok", "not ok"])
            XCTFail("getMany must refuse a bad key")
        } catch let error as MemcachedError {
            XCTAssertTrue(error.isInvalidKey)
        }
        // 250 bytes is the limit, and the connection is still in sync.
        let longest = String(repeating: "k", count: 250)
        try await client.set(longest, [7])
        let value = try await client.get(longest)
        XCTAssertEqual(value, [7])
    }

    func testServerDownFailsPromptlyAndRecovers() async throws {
        try await client.set("k", [1])
        server.stop()
        for _ in 0..<3 {
            let start = ContinuousClock.now
            do {
                _ = try await client.get("k")
                XCTFail("get must fail while memcached is down")
            } catch let error as MemcachedError {
                XCTAssertTrue(error.isServerUnavailable, error.description)
                XCTAssertTrue(error.description.contains(server.address), error.description)
            }
            XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
        }
        try server.start()
        let recovered = try await eventually(timeout: .seconds(10)) {
            (try? await self.client.set("k", [2])) != nil
        }
        XCTAssertTrue(recovered)
        let value = try await client.get("k")
        XCTAssertEqual(value, [2])
    }

    func testHungServerTimesOut() async throws {
        try await client.set("k", [1])
        try server.suspend()
        defer { server.resume() }
        let start = ContinuousClock.now
        do {
            _ = try await client.get("k")
            XCTFail("get must time out while memcached is frozen")
        } catch let error as MemcachedError {
            XCTAssertTrue(error.isServerUnavailable, error.description)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(4))
    }

    func testShutdownTwiceAndUseAfterShutdown() async throws {
        await client.shutdown()
        await client.shutdown()
        do {
            _ = try await client.get("k")
            XCTFail("a shut down client must refuse requests")
        } catch let error as MemcachedError {
            XCTAssertEqual(error.reason, .clientShutDown)
        }
    }

    func testBadServerListIsRefused() {
        XCTAssertThrowsError(try MemcachedClient(configuration: MemcachedConfiguration(servers: ["127.0.0.1:notaport"])))
        XCTAssertThrowsError(try MemcachedClient(configuration: MemcachedConfiguration(servers: [])))
    }
}
