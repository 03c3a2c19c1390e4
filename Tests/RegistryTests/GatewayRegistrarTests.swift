import ClusterTesting
import Logging
import Registry
import Wire
import XCTest

final class GatewayRegistrarTests: XCTestCase {
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

    private let address = GatewayAddress("10.1.2.3:7100")!

    func testRegistersRefreshesAndUnregistersOnCancel() async throws {
        let registry = GatewayRegistry(client: client)
        let (logger, log) = RecordingLogHandler.logger()
        let registrar = GatewayRegistrar(
            registry: registry, address: address, ttl: 1, refreshInterval: .milliseconds(300), logger: logger
        )
        let task = Task { await registrar.run() }
        let registered = try await eventually(timeout: .seconds(5)) { try await registry.liveGateways() == [self.address] }
        XCTAssertTrue(registered)
        // Refreshes keep a 1 s TTL alive well past its expiry.
        try await Task.sleep(for: .milliseconds(2500))
        let stillThere = try await registry.liveGateways()
        XCTAssertEqual(stillThere, [address])

        task.cancel()
        let start = ContinuousClock.now
        await task.value
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
        let afterwards = try await registry.listedGateways()
        XCTAssertEqual(afterwards, [], "unregistered on cancellation")
        XCTAssertEqual(log.messages(at: .error), [])
        XCTAssertEqual(log.messages(at: .info).count, 2, "registered, unregistered: \(log.messages(at: .info))")
    }

    func testSurvivesMemcachedOutageAndReregisters() async throws {
        let registry = GatewayRegistry(client: client)
        let (logger, log) = RecordingLogHandler.logger()
        let registrar = GatewayRegistrar(
            registry: registry, address: address, ttl: 2, refreshInterval: .milliseconds(200), logger: logger
        )
        let task = Task { await registrar.run() }
        defer { task.cancel() }
        let registered = try await eventually(timeout: .seconds(5)) { try await registry.liveGateways() == [self.address] }
        XCTAssertTrue(registered)

        server.stop()
        let logged = try await eventually(timeout: .seconds(5)) { !log.messages(at: .error).isEmpty }
        XCTAssertTrue(logged)
        // Several failing ticks, one error line for the whole outage.
        try await Task.sleep(for: .seconds(1))
        let errors = log.messages(at: .error)
        XCTAssertEqual(errors.count, 1, "\(errors)")
        XCTAssertTrue(errors[0].contains(server.address), errors[0])
        XCTAssertTrue(errors[0].contains("CONNECTION FAILURE") || errors[0].contains("SERVER HAS FAILED"), errors[0])

        // A restarted memcached is empty: the registrar must put the gateway back.
        try server.start()
        let back = try await eventually(timeout: .seconds(10)) {
            (try? await registry.liveGateways()) == [self.address]
        }
        XCTAssertTrue(back)
        let recovered = try await eventually(timeout: .seconds(2)) { !log.messages(at: .notice).isEmpty }
        XCTAssertTrue(recovered)

        task.cancel()
        await task.value
        let afterwards = try await registry.listedGateways()
        XCTAssertEqual(afterwards, [])
    }

    func testCancelWhileMemcachedIsDownReturnsPromptly() async throws {
        let registry = GatewayRegistry(client: client)
        let (logger, log) = RecordingLogHandler.logger()
        server.stop()
        let registrar = GatewayRegistrar(
            registry: registry, address: address, refreshInterval: .milliseconds(200), logger: logger
        )
        let task = Task { await registrar.run() }
        let logged = try await eventually(timeout: .seconds(5)) { !log.messages(at: .error).isEmpty }
        XCTAssertTrue(logged)
        let start = ContinuousClock.now
        task.cancel()
        await task.value
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(4))
        XCTAssertEqual(log.messages(at: .warning).count, 1, "unregister failure is a warning")
    }
}
