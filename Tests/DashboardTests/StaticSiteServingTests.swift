import ClusterTesting
import Foundation
import NIOSSL
import XCTest

/// The gateway's public ports serve the dashboard's files (from the resource bundle the build put
/// beside the binary) to plain HTTP and HTTPS, and WebSocket upgrades on the same ports still work.
final class StaticSiteServingTests: XCTestCase {
    private var cluster: TestCluster!

    override func setUp() async throws {
        cluster = try TestCluster()
    }

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    /// The page's files as they are in the source tree.
    private static let siteSource = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Dashboard/Site")

    private func sourceBytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Self.siteSource.appendingPathComponent(path)))
    }

    private func exchange(_ requests: String..., port: Int, tls: TLSConfiguration? = nil, headRequests: Set<Int> = []) async throws -> [RawHTTPResponse] {
        let outcome = try await RawTCPClient.exchange(port: port, bytes: Array(requests.joined().utf8), tls: tls, timeout: .seconds(15))
        XCTAssertTrue(outcome.closedByPeer, "the gateway keeps a connection open after Connection: close")
        return try RawHTTPResponse.parseAll(outcome.received, headRequests: headRequests)
    }

    private func get(_ path: String, _ headers: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: test\r\n\(headers)Connection: close\r\n\r\n"
    }

    func testServesThePageAndItsModulesWithTypesAndCaching() async throws {
        let gateway = try cluster.startGateway()
        try gateway.process.waitForOutput(containing: "dashboard at http://127.0.0.1:\(gateway.publicPort)/")

        let page = try await exchange(get("/"), port: gateway.publicPort)[0]
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.headers["content-type"], "text/html; charset=utf-8")
        XCTAssertEqual(page.headers["cache-control"], "no-cache")
        XCTAssertNotNil(page.headers["content-security-policy"])
        XCTAssertEqual(page.body, try sourceBytes("index.html"))
        let entityTag = try XCTUnwrap(page.headers["etag"])

        let module = try await exchange(get("/js/main.js"), port: gateway.publicPort)[0]
        XCTAssertEqual(module.status, 200)
        XCTAssertEqual(module.headers["content-type"], "text/javascript; charset=utf-8")
        XCTAssertEqual(module.headers["cache-control"], "max-age=60")
        XCTAssertEqual(module.body, try sourceBytes("js/main.js"))

        let style = try await exchange(get("/app.css"), port: gateway.publicPort)[0]
        XCTAssertEqual(style.headers["content-type"], "text/css; charset=utf-8")

        let revalidated = try await exchange(get("/index.html", "If-None-Match: \(entityTag)\r\n"), port: gateway.publicPort)[0]
        XCTAssertEqual(revalidated.status, 304)
        XCTAssertTrue(revalidated.body.isEmpty)
        let changed = try await exchange(get("/index.html", "If-None-Match: \"0\"\r\n"), port: gateway.publicPort)[0]
        XCTAssertEqual(changed.status, 200)

        let head = try await exchange("HEAD / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", port: gateway.publicPort, headRequests: [0])[0]
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["content-length"], "\(page.body.count)")
        XCTAssertTrue(head.body.isEmpty)
    }

    func testUnknownPathsTraversalAndOtherMethodsAreRefused() async throws {
        let gateway = try cluster.startGateway()
        for path in ["/nope.html", "/../Package.swift", "/js/../../DashboardSite.swift", "/%2e%2e/%2e%2e/Package.swift", "/Site/index.html", "//etc/passwd", "/index.html%00.js"] {
            let response = try await exchange(get(path), port: gateway.publicPort)[0]
            XCTAssertEqual(response.status, 404, path)
            XCTAssertEqual(response.headers["content-type"], "text/plain; charset=utf-8", path)
        }
        let post = try await exchange("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi", port: gateway.publicPort)[0]
        XCTAssertEqual(post.status, 405)
        XCTAssertEqual(post.headers["allow"], "GET, HEAD")
    }

    func testKeepAliveServesSeveralFilesAndWebSocketsStillUpgrade() async throws {
        let gateway = try cluster.startGateway()
        let worker = try cluster.startWorker()
        try cluster.waitUntilLinked(worker, to: gateway)
        let keptAlive = "GET /app.css HTTP/1.1\r\nHost: test\r\n\r\n"
        let responses = try await exchange(keptAlive, get("/js/main.js"), port: gateway.publicPort)
        XCTAssertEqual(responses.map(\.status), [200, 200])
        XCTAssertEqual(responses[1].body, try sourceBytes("js/main.js"))

        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        try await client.send("still a WebSocket port")
        let reply = try await client.receiveText()
        XCTAssertEqual(reply, "still a WebSocket port")
        await client.close()
    }

    func testServesThePageOverTLSBesideWss() async throws {
        let authority = try TestCertificateAuthority()
        let securePort = freeTCPPort()
        let gateway = try cluster.startGateway(
            extraArguments: ["--listen-tls", "127.0.0.1:\(securePort)", "--tls-certificate", authority.serverChainPath, "--tls-key", authority.serverKeyPath],
            plainWebSocket: false
        )
        try gateway.process.waitForOutput(containing: "dashboard at https://127.0.0.1:\(securePort)/")
        let worker = try cluster.startWorker()
        try cluster.waitUntilLinked(worker, to: gateway)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(authority.rootCertificatePath)
        let page = try await exchange(get("/"), port: securePort, tls: tls)[0]
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.body, try sourceBytes("index.html"))

        let client = try await WebSocketTestClient.connect(port: securePort, tls: tls)
        try await client.send("wss beside https")
        let reply = try await client.receiveText()
        XCTAssertEqual(reply, "wss beside https")
        await client.close()
    }

    func testWithoutTheDashboardPlainRequestsGet426() async throws {
        let gateway = try cluster.startGateway(extraArguments: ["--no-dashboard"])
        let response = try await exchange(get("/"), port: gateway.publicPort)[0]
        XCTAssertEqual(response.status, 426)
        XCTAssertFalse(gateway.process.output.contains("dashboard at"))
    }
}
