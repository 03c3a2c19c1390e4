import ClusterTesting
import Foundation
import NIOCore
import NIOSSL
import XCTest

/// WebSocket over TLS: a certificate chain made at run time, verified by clients that trust only
/// its root; ws and wss side by side; a bad certificate or key stops the gateway at start.
final class SecureWebSocketTests: XCTestCase {
    private var cluster: TestCluster!
    private var authority: TestCertificateAuthority!

    override func setUp() async throws {
        cluster = try TestCluster()
        authority = try TestCertificateAuthority()
    }

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    private var trustingTheTestRoot: TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(authority.rootCertificatePath)
        tls.certificateVerification = .fullVerification
        return tls
    }

    private func startSecureGateway(plainToo: Bool = false) throws -> (gateway: TestCluster.Gateway, securePort: Int) {
        let securePort = freeTCPPort()
        let gateway = try cluster.startGateway(
            extraArguments: [
                "--listen-tls", "127.0.0.1:\(securePort)",
                "--tls-certificate", authority.serverChainPath, "--tls-key", authority.serverKeyPath,
            ],
            plainWebSocket: plainToo
        )
        let worker = try cluster.startWorker()
        try cluster.waitUntilLinked(worker, to: gateway)
        return (gateway, securePort)
    }

    func testEchoOverVerifiedTLSByAddressAndByName() async throws {
        let (gateway, securePort) = try startSecureGateway()
        for host in ["127.0.0.1", "localhost"] {
            let client = try await WebSocketTestClient.connect(host: host, port: securePort, tls: trustingTheTestRoot)
            try await client.send("secure hello via \(host)")
            let reply = try await client.receiveText()
            XCTAssertEqual(reply, "secure hello via \(host)")
            await client.close()
        }
        try gateway.process.waitForOutput(containing: "serving wss with certificate")
        XCTAssertTrue(gateway.process.output.contains("common_name=localhost"), gateway.process.logTail())
        XCTAssertFalse(gateway.process.output.contains(authority.serverKeyPath), "the key path appears in the log")
        let key = try String(contentsOfFile: authority.serverKeyPath, encoding: .utf8)
        let keyBody = key.split(separator: "\n").dropFirst().first.map(String.init) ?? key
        XCTAssertFalse(gateway.process.output.contains(keyBody), "key material appears in the log")
    }

    func testClientThatDoesNotTrustTheRootRefuses() async throws {
        let (_, securePort) = try startSecureGateway()
        var untrusting = TLSConfiguration.makeClientConfiguration()
        untrusting.trustRoots = .certificates([])
        await XCTAssertThrowsErrorAsync(try await WebSocketTestClient.connect(port: securePort, tls: untrusting))
    }

    func testPlainAndSecureListenersServeTogether() async throws {
        let (gateway, securePort) = try startSecureGateway(plainToo: true)
        let plain = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let secure = try await WebSocketTestClient.connect(port: securePort, tls: trustingTheTestRoot)
        try await plain.send("B to ws and wss")
        let seenPlain = try await plain.receiveText()
        let seenSecure = try await secure.receiveText()
        XCTAssertEqual(seenPlain, "B to ws and wss")
        XCTAssertEqual(seenSecure, "B to ws and wss")
        await plain.close()
        await secure.close()
    }

    /// Python's `websockets` with an ssl context that trusts only the test root.
    func testPythonWebSocketsOverTLS() async throws {
        let (_, securePort) = try startSecureGateway()
        let script = """
            import asyncio, ssl, sys, websockets
            async def main():
                context = ssl.create_default_context(cafile=sys.argv[2])
                async with websockets.connect(sys.argv[1], ssl=context) as ws:
                    await ws.send("hello from python over tls")
                    print("echo:", await asyncio.wait_for(ws.recv(), 5))
            asyncio.run(main())
            """
        let result = try PythonScript.run(
            script,
            arguments: ["wss://localhost:\(securePort)/", authority.rootCertificatePath],
            timeout: .seconds(30)
        )
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("echo: hello from python over tls"), result.output)
    }

    func testMissingCertificateStopsTheGatewayAtStart() throws {
        let missing = "/nonexistent/cert-\(UUID().uuidString).pem"
        let (status, output) = try startFailingGateway(certificate: missing, key: authority.serverKeyPath)
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("TLS certificate file \(missing) does not exist"), output)
    }

    func testBadKeyStopsTheGatewayAtStartWithoutShowingItsPath() throws {
        let missing = "/nonexistent/secret-key-\(UUID().uuidString).pem"
        let (status, output) = try startFailingGateway(certificate: authority.serverChainPath, key: missing)
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("TLS private key file does not exist"), output)
        XCTAssertFalse(output.contains(missing), output)

        // A readable file that is not a key: the certificate itself.
        let (garbageStatus, garbageOutput) = try startFailingGateway(certificate: authority.serverChainPath, key: authority.serverChainPath)
        XCTAssertNotEqual(garbageStatus, 0)
        XCTAssertTrue(garbageOutput.contains("holds no unencrypted PEM private key"), garbageOutput)
    }

    private func startFailingGateway(certificate: String, key: String) throws -> (Int32, String) {
        let process = try ManagedProcess(
            executable: TestCluster.binaryPath,
            arguments: [
                "gateway", "--memcached", cluster.memcached.address, "--lan-port", "\(freeTCPPort())",
                "--listen-tls", "127.0.0.1:\(freeTCPPort())", "--tls-certificate", certificate, "--tls-key", key,
            ],
            // A valid secret key, so the start fails on the TLS files and not before.
            environment: ["DATACENTERED_SECRET_KEY": cluster.secretKey]
        )
        let status = try process.waitForExit(timeout: .seconds(20))
        return (status, process.output)
    }
}
