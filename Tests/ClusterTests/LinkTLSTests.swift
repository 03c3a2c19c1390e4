import ClusterTesting
import Foundation
import XCTest

/// The internal port over TLS, for links that cross networks the operator does not trust: workers
/// and pushing services verify the gateway's certificate; plain or unverified peers do not link.
final class LinkTLSTests: XCTestCase {
    private var cluster: TestCluster!
    private var authority: TestCertificateAuthority!
    private var gateway: TestCluster.Gateway!

    override func setUp() async throws {
        cluster = try TestCluster()
        authority = try TestCertificateAuthority()
        gateway = try cluster.startGateway(extraArguments: [
            "--link-tls-certificate", authority.serverChainPath, "--link-tls-key", authority.serverKeyPath,
        ])
    }

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testAWorkerTrustingTheGatewaysCALinksOverTLSAndServes() async throws {
        let worker = try cluster.startWorker(extraArguments: ["--link-tls-ca", authority.rootCertificatePath])
        try cluster.waitUntilLinked(worker, to: gateway)
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        try await client.send("over a TLS link")
        let reply = try await client.receiveText(timeout: .seconds(10))
        XCTAssertEqual(reply, "over a TLS link")
        await client.close()

        let push = try CommandRunner.run(
            TestCluster.binaryPath,
            ["push", "count", "--memcached", cluster.memcached.address, "--link-tls-ca", authority.rootCertificatePath],
            environment: ["DATACENTERED_SECRET_KEY": cluster.secretKey]
        )
        XCTAssertEqual(push.status, 0, push.output)
        XCTAssertTrue(gateway.process.output.contains("worker links over TLS with certificate"))
        XCTAssertFalse(gateway.process.output.contains(authority.serverKeyPath), "the key's path is logged")
    }

    func testAPlainTCPWorkerDoesNotLink() async throws {
        let worker = try cluster.startWorker(name: "plain")
        try worker.waitForOutput(containing: "cannot link to gateway", timeout: .seconds(15))
        try gateway.process.waitForOutput(containing: "refused worker link", timeout: .seconds(5))
        XCTAssertFalse(worker.output.contains("linked to gateway"))
    }

    func testAWorkerTrustingAnotherCADoesNotLink() async throws {
        let stranger = try TestCertificateAuthority()
        let worker = try cluster.startWorker(name: "stranger", extraArguments: ["--link-tls-ca", stranger.rootCertificatePath])
        try worker.waitForOutput(containing: "cannot link to gateway", timeout: .seconds(15))
        XCTAssertFalse(worker.output.contains("linked to gateway"))
    }
}
