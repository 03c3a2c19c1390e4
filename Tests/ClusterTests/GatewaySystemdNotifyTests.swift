import ClusterTesting
import XCTest

/// A gateway run by systemd alone (`datacentered-gateway@.service`, Type=notify) says READY=1 on
/// `$NOTIFY_SOCKET` once it listens.
final class GatewaySystemdNotifyTests: XCTestCase {
    func testAGatewayReportsReadyOnceItListens() async throws {
        let listener = try NotifySocketListener(name: "@datacentered-gateway-\(UUID().uuidString.prefix(8))")
        defer { listener.close() }
        let cluster = try TestCluster()
        defer { cluster.stopAll() }
        let gateway = try cluster.startGateway(environment: ["NOTIFY_SOCKET": listener.name])
        let pid = try XCTUnwrap(gateway.process.pid)
        XCTAssertEqual(try listener.receive(timeout: .seconds(20)), "READY=1\nMAINPID=\(pid)")
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        XCTAssertTrue(client.isOpen)
        await client.abort()
    }
}
