import NIOCore
import NIOHTTP1
import XCTest

@testable import Gateway

/// What the gateway answers to plain HTTP requests for its static site, request by request.
final class StaticSiteResponderTests: XCTestCase {
    private let responder = StaticSiteResponder(
        site: StaticSite(files: [
            "/index.html": .init(bytes: Array("<!doctype html>".utf8), contentType: StaticSite.contentType(forExtension: "html")),
            "/js/app.js": .init(bytes: Array("export {};".utf8), contentType: StaticSite.contentType(forExtension: "js")),
            "/a b.css": .init(bytes: Array("p{}".utf8), contentType: StaticSite.contentType(forExtension: "css")),
        ])
    )

    private func request(_ uri: String, method: HTTPMethod = .GET, headers: [(String, String)] = []) -> StaticSiteResponder.Response {
        responder.respond(to: HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers)))
    }

    func testRootIsTheIndexAndQueriesAreIgnored() {
        for uri in ["/", "/index.html", "/?token=x", "/index.html#top"] {
            let response = request(uri)
            XCTAssertEqual(response.head.status, .ok, uri)
            XCTAssertEqual(response.body.map { String(buffer: $0) }, "<!doctype html>", uri)
            XCTAssertEqual(response.head.headers["content-type"], ["text/html; charset=utf-8"], uri)
            XCTAssertEqual(response.head.headers["cache-control"], ["no-cache"], uri)
        }
    }

    func testAssetsAreCachedBrieflyWithAValidator() {
        let response = request("/js/app.js")
        XCTAssertEqual(response.head.headers["content-type"], ["text/javascript; charset=utf-8"])
        XCTAssertEqual(response.head.headers["cache-control"], ["max-age=60"])
        XCTAssertEqual(response.head.headers["content-length"], ["10"])
        XCTAssertTrue(response.head.headers["content-security-policy"].isEmpty, "only pages carry the policy")
        let tag = response.head.headers["etag"].first ?? ""
        XCTAssertTrue(tag.hasPrefix("\"") && tag.count > 2, tag)
        XCTAssertEqual(request("/js/app.js", headers: [("If-None-Match", tag)]).head.status, .notModified)
        XCTAssertEqual(request("/js/app.js", headers: [("If-None-Match", "\"other\", W/\(tag)")]).head.status, .notModified)
        XCTAssertNil(request("/js/app.js", headers: [("If-None-Match", tag)]).body)
        XCTAssertEqual(request("/js/app.js", headers: [("If-None-Match", "\"other\"")]).head.status, .ok)
    }

    func testPercentEncodedPathsDecode() {
        XCTAssertEqual(request("/a%20b.css").head.status, .ok)
        XCTAssertEqual(request("/a%2").head.status, .notFound)
    }

    func testUnknownPathsAndTraversalAre404() {
        for uri in ["/nope", "/js/../index.html", "/../index.html", "/%2e%2e/index.html", "index.html", "*", "http://x/index.html"] {
            XCTAssertEqual(request(uri).head.status, .notFound, uri)
        }
    }

    func testHeadHasTheHeadersWithoutTheBody() {
        let response = request("/", method: .HEAD)
        XCTAssertEqual(response.head.status, .ok)
        XCTAssertEqual(response.head.headers["content-length"], ["15"])
        XCTAssertNil(response.body)
        XCTAssertNil(request("/nope", method: .HEAD).body)
    }

    func testOtherMethodsAre405() {
        for method in [HTTPMethod.POST, .PUT, .DELETE, .OPTIONS] {
            let response = request("/", method: method)
            XCTAssertEqual(response.head.status, .methodNotAllowed)
            XCTAssertEqual(response.head.headers["allow"], ["GET, HEAD"])
        }
    }
}
