import ClusterTesting
import Registry
import Wire
import XCTest

final class GatewayRegistryTests: XCTestCase {
    private var server: MemcachedServer!
    private var clients: [MemcachedClient] = []

    override func setUp() async throws {
        server = try MemcachedServer()
    }

    override func tearDown() async throws {
        for client in clients { await client.shutdown() }
        clients = []
        server?.stop()
        server = nil
    }

    private func makeRegistry(prefix: String = "dc") throws -> GatewayRegistry {
        let client = try MemcachedClient(configuration: MemcachedConfiguration(servers: [server.address]))
        clients.append(client)
        return GatewayRegistry(client: client, prefix: prefix)
    }

    private let a = GatewayAddress("10.0.0.2:7000")!
    private let b = GatewayAddress("10.0.0.1:7001")!

    func testRegisterListUnregister() async throws {
        let registry = try makeRegistry()
        let empty = try await registry.liveGateways()
        XCTAssertEqual(empty, [])
        try await registry.register(a, ttl: 30)
        try await registry.register(b, ttl: 30)
        try await registry.register(a, ttl: 30)
        let both = try await registry.liveGateways()
        XCTAssertEqual(both, [b, a], "sorted, no duplicates")

        let raw = try await registry.client.get("dc:gateways")
        XCTAssertEqual(raw.map { String(decoding: $0, as: UTF8.self) }, "10.0.0.1:7001,10.0.0.2:7000")
        let liveness = try await registry.client.get("dc:gateway:10.0.0.2:7000")
        XCTAssertNotNil(liveness)

        try await registry.unregister(a)
        let one = try await registry.liveGateways()
        XCTAssertEqual(one, [b])
        let gone = try await registry.client.get("dc:gateway:10.0.0.2:7000")
        XCTAssertNil(gone)
        try await registry.unregister(a)
        try await registry.unregister(b)
        let none = try await registry.liveGateways()
        XCTAssertEqual(none, [])
    }

    func testPrefixesSeparateClusters() async throws {
        let one = try makeRegistry(prefix: "one")
        let two = GatewayRegistry(client: one.client, prefix: "two")
        try await one.register(a, ttl: 30)
        let inTwo = try await two.liveGateways()
        XCTAssertEqual(inTwo, [])
    }

    func testExpiredGatewayDropsOutAndIsPruned() async throws {
        let registry = try makeRegistry()
        try await registry.register(a, ttl: 1)
        try await registry.register(b, ttl: 60)
        let before = try await registry.liveGateways()
        XCTAssertEqual(before, [b, a])
        // memcached expires on whole seconds: a 1 s TTL ends within about 2 s.
        let expired = try await eventually(timeout: .seconds(5)) {
            try await registry.liveGateways() == [b]
        }
        XCTAssertTrue(expired)
        let listed = try await registry.listedGateways()
        XCTAssertEqual(listed, [b], "the expired entry is pruned from the list")

        try await registry.register(a, ttl: 60)
        let back = try await registry.liveGateways()
        XCTAssertEqual(back, [b, a])
    }

    func testConcurrentRegistrationsFromSeveralProcessesAllLand() async throws {
        let registries = try (0..<4).map { _ in try makeRegistry() }
        let addresses = (0..<40).map { GatewayAddress(ip: 0x0A00_0000 + UInt32($0 / 10), port: UInt16(7000 + $0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, address) in addresses.enumerated() {
                let registry = registries[index % registries.count]
                group.addTask { try await registry.register(address, ttl: 60) }
            }
            try await group.waitForAll()
        }
        let live = try await registries[0].liveGateways()
        XCTAssertEqual(live, addresses.sorted())

        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, address) in addresses.enumerated() where index % 2 == 0 {
                let registry = registries[index % registries.count]
                group.addTask { try await registry.unregister(address) }
            }
            try await group.waitForAll()
        }
        let remaining = try await registries[1].liveGateways()
        XCTAssertEqual(remaining, addresses.enumerated().filter { $0.offset % 2 == 1 }.map(\.element).sorted())
    }

    func testGarbageInTheListIsIgnored() async throws {
        let registry = try makeRegistry()
        try await registry.client.set(registry.listKey, Array("nonsense,,10.0.0.1:7001,10.0.0.1:7001".utf8))
        try await registry.register(a, ttl: 30)
        try await registry.register(b, ttl: 30)
        let live = try await registry.liveGateways()
        XCTAssertEqual(live, [b, a])
    }

    func testMemcachedDownFailsPromptly() async throws {
        let registry = try makeRegistry()
        server.stop()
        let start = ContinuousClock.now
        do {
            try await registry.register(a, ttl: 5)
            XCTFail("register must fail while memcached is down")
        } catch let error as MemcachedError {
            XCTAssertTrue(error.isServerUnavailable, error.description)
        }
        do {
            _ = try await registry.liveGateways()
            XCTFail("liveGateways must fail while memcached is down")
        } catch let error as MemcachedError {
            XCTAssertTrue(error.isServerUnavailable, error.description)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(4))
    }
}
