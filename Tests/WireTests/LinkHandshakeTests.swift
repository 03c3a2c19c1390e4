import Foundation
import Wire
import XCTest

final class LinkHandshakeTests: XCTestCase {
    func testWorkerHelloUsesGatewayWorkerKeys() throws {
        let hello = WorkerHello(workerKey: "BusinessWorker:0", secretKey: "s3cret")
        let data = try JSONEncoder().encode(hello)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: String])
        XCTAssertEqual(object, ["worker_key": "BusinessWorker:0", "secret_key": "s3cret"])
    }

    func testWorkerHelloDecodesGatewayWorkerJSON() throws {
        let json = #"{"worker_key":"BusinessWorker:3","secret_key":""}"#
        let hello = try JSONDecoder().decode(WorkerHello.self, from: Data(json.utf8))
        XCTAssertEqual(hello, WorkerHello(workerKey: "BusinessWorker:3", secretKey: ""))
    }

    func testWorkerHelloRejectsCamelCaseKeys() {
        let json = #"{"workerKey":"BusinessWorker:3","secretKey":"x"}"#
        XCTAssertThrowsError(try JSONDecoder().decode(WorkerHello.self, from: Data(json.utf8)))
    }

    func testWorkerHelloRoundTrip() throws {
        let hello = WorkerHello(workerKey: "name:with:colons:12", secretKey: "päss \"quoted\" \u{1F511}")
        let decoded = try JSONDecoder().decode(WorkerHello.self, from: JSONEncoder().encode(hello))
        XCTAssertEqual(decoded, hello)
    }

    func testHandshakeResultRoundTrip() throws {
        for result in [HandshakeResult(accepted: true), HandshakeResult(accepted: false, reason: "secret key mismatch")] {
            let decoded = try JSONDecoder().decode(HandshakeResult.self, from: JSONEncoder().encode(result))
            XCTAssertEqual(decoded, result)
        }
        let accepted = try JSONDecoder().decode(HandshakeResult.self, from: Data(#"{"accepted":true}"#.utf8))
        XCTAssertEqual(accepted, HandshakeResult(accepted: true, reason: nil))
    }

    func testSecretsMatchEqualSecrets() {
        XCTAssertTrue(secretsMatch("s3cret", "s3cret"))
        XCTAssertTrue(secretsMatch("ключ \u{1F511}", "ключ \u{1F511}"))
        XCTAssertTrue(secretsMatch(String(repeating: "x", count: 4096), String(repeating: "x", count: 4096)))
    }

    func testSecretsMatchBothEmpty() {
        XCTAssertTrue(secretsMatch("", ""))
    }

    func testSecretsDifferingAtAnyPositionDoNotMatch() {
        let expected = "abcdef"
        for index in expected.indices {
            var offered = expected
            offered.replaceSubrange(index...index, with: "X")
            XCTAssertFalse(secretsMatch(offered, expected), offered)
        }
        XCTAssertFalse(secretsMatch("s3cret", "S3cret"))
    }

    func testSecretsOfDifferentLengthsDoNotMatch() {
        XCTAssertFalse(secretsMatch("s3cret", "s3cre"))
        XCTAssertFalse(secretsMatch("s3cre", "s3cret"))
        XCTAssertFalse(secretsMatch("s3cret", "s3cret\u{0}"))
        XCTAssertFalse(secretsMatch("", "s3cret"))
        XCTAssertFalse(secretsMatch("s3cret", ""))
    }

    func testSecretsAreComparedAsBytesNotGraphemes() {
        // "é" precomposed and decomposed are equal Strings but different bytes on the wire.
        XCTAssertFalse(secretsMatch("caf\u{E9}", "cafe\u{301}"))
    }
}
