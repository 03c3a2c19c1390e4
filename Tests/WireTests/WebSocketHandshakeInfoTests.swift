import Foundation
import NIOCore
import Wire
import XCTest

final class WebSocketHandshakeInfoTests: XCTestCase {
    private func info(query: String = "", headers: [(String, String)] = []) -> WebSocketHandshakeInfo {
        WebSocketHandshakeInfo(
            path: "/agent",
            query: query,
            headers: headers.map { WebSocketHandshakeInfo.Header(name: $0.0, value: $0.1) },
            remoteAddress: "192.0.2.1:50000"
        )
    }

    // MARK: - Headers

    func testHeaderLookupIgnoresCase() {
        let handshake = info(headers: [("Host", "example.com"), ("X-Auth-Token", "t0k")])
        XCTAssertEqual(handshake.header("x-auth-token"), "t0k")
        XCTAssertEqual(handshake.header("X-AUTH-TOKEN"), "t0k")
        XCTAssertEqual(handshake.header("X-Auth-Token"), "t0k")
        XCTAssertEqual(handshake.header("host"), "example.com")
    }

    func testHeaderLookupReturnsTheFirstOfRepeatedHeaders() {
        let handshake = info(headers: [("Cookie", "a=1"), ("cookie", "b=2"), ("COOKIE", "c=3")])
        XCTAssertEqual(handshake.header("cookie"), "a=1")
    }

    func testMissingHeaderIsNil() {
        XCTAssertNil(info(headers: [("Host", "h")]).header("Origin"))
        XCTAssertNil(info().header("Host"))
        XCTAssertNil(info(headers: [("Host", "h")]).header("Hos"), "names are matched whole")
    }

    func testAnEmptyHeaderValueIsPresent() {
        XCTAssertEqual(info(headers: [("X-Empty", "")]).header("x-empty"), "")
    }

    // MARK: - Query parameters

    func testQueryParametersArePercentDecoded() {
        let parameters = info(query: "token=a%20b&name=J%C3%BCrgen&path=%2Fx%2Fy&emoji=%F0%9F%94%91").queryParameters
        XCTAssertEqual(parameters, ["token": "a b", "name": "Jürgen", "path": "/x/y", "emoji": "\u{1F511}"])
    }

    func testPlusIsASpaceButAnEncodedPlusIsAPlus() {
        let parameters = info(query: "q=1+2&r=a%2Bb&s=a+%2B+b").queryParameters
        XCTAssertEqual(parameters, ["q": "1 2", "r": "a+b", "s": "a + b"])
    }

    func testKeysAreDecodedToo() {
        XCTAssertEqual(info(query: "my%20key=v&a+b=c&%C3%A9=e").queryParameters, ["my key": "v", "a b": "c", "é": "e"])
    }

    func testAKeyWithoutEqualsMapsToAnEmptyString() {
        XCTAssertEqual(info(query: "flag").queryParameters, ["flag": ""])
        XCTAssertEqual(info(query: "a=1&flag&b=2").queryParameters, ["a": "1", "flag": "", "b": "2"])
        XCTAssertEqual(info(query: "empty=").queryParameters, ["empty": ""])
    }

    func testOnlyTheFirstEqualsSplits() {
        XCTAssertEqual(info(query: "sig=abc==&expr=a=b").queryParameters, ["sig": "abc==", "expr": "a=b"])
    }

    func testEmptyPairsAreSkipped() {
        XCTAssertEqual(info(query: "").queryParameters, [:])
        XCTAssertEqual(info(query: "&&a=1&&b=2&").queryParameters, ["a": "1", "b": "2"])
    }

    func testAnEmptyKeyIsKept() {
        XCTAssertEqual(info(query: "=v").queryParameters, ["": "v"])
    }

    func testARepeatedKeyKeepsTheLastValue() {
        // As PHP's $_GET does for `a=1&a=2`.
        XCTAssertEqual(info(query: "a=1&a=2").queryParameters, ["a": "2"])
    }

    func testMalformedPercentEncodingIsLeftAsSent() {
        let parameters = info(query: "bad=%ZZ&half=%E&spaced=a+%zz&ok=%41").queryParameters
        XCTAssertEqual(parameters, ["bad": "%ZZ", "half": "%E", "spaced": "a %zz", "ok": "A"])
    }

    // MARK: - JSON body

    func testJSONKeys() throws {
        let handshake = info(query: "a=1", headers: [("Host", "h")])
        XCTAssertEqual(
            String(buffer: try ByteBuffer(json: handshake)),
            #"{"headers":[{"name":"Host","value":"h"}],"path":"/agent","query":"a=1","remoteAddress":"192.0.2.1:50000"}"#
        )
    }

    func testRoundTripKeepsHeaderOrderAndCase() throws {
        let handshake = info(
            query: "token=a%20b&flag",
            headers: [("Host", "example.com"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("host", "second")]
        )
        let decoded = try ByteBuffer(json: handshake).decodeJSON(as: WebSocketHandshakeInfo.self)
        XCTAssertEqual(decoded, handshake)
        XCTAssertEqual(decoded.headers.map(\.name), ["Host", "Sec-WebSocket-Key", "host"])
    }
}
