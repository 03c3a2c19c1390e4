import Foundation
import NIOCore
import Wire
import XCTest

final class LinkHandshakeTests: XCTestCase {
    private let secret = "0123456789abcdef-shared"

    func testKeysShorterThanSixteenBytesAreRefused() {
        XCTAssertThrowsError(try LinkKey(secret: "")) { XCTAssertEqual($0 as? LinkKeyError, .missing) }
        XCTAssertThrowsError(try LinkKey(secret: "fifteen-bytes!!")) { XCTAssertEqual($0 as? LinkKeyError, .tooShort(length: 15)) }
        XCTAssertNoThrow(try LinkKey(secret: "sixteen-bytes!!!"))
        // Bytes, not characters: four 4-byte scalars are 16 bytes.
        XCTAssertNoThrow(try LinkKey(secret: "\u{1F511}\u{1F511}\u{1F511}\u{1F511}"))
    }

    func testLinkKeyErrorsNameTheMinimumNotTheKey() {
        XCTAssertTrue(LinkKeyError.missing.description.contains("DATACENTERED_SECRET_KEY"))
        XCTAssertTrue(LinkKeyError.tooShort(length: 3).description.contains("at least 16"))
    }

    func testEachSideVerifiesTheOthersProof() throws {
        let key = try LinkKey(secret: secret)
        let hello = LinkHello(workerKey: "echo:42", nonce: LinkKey.makeNonce())
        let gatewayNonce = LinkKey.makeNonce()
        let linking = key.proof(of: .linking, hello: hello, gatewayNonce: gatewayNonce)
        let gateway = key.proof(of: .gateway, hello: hello, gatewayNonce: gatewayNonce)
        XCTAssertTrue(key.verify(linking, of: .linking, hello: hello, gatewayNonce: gatewayNonce))
        XCTAssertTrue(key.verify(gateway, of: .gateway, hello: hello, gatewayNonce: gatewayNonce))
        XCTAssertNotEqual(linking, gateway)
        // One side's proof is never the other's.
        XCTAssertFalse(key.verify(linking, of: .gateway, hello: hello, gatewayNonce: gatewayNonce))
    }

    func testAProofForAnotherNonceOrKeyOrNameFails() throws {
        let key = try LinkKey(secret: secret)
        let hello = LinkHello(workerKey: "echo:42", nonce: LinkKey.makeNonce())
        let gatewayNonce = LinkKey.makeNonce()
        let proof = key.proof(of: .linking, hello: hello, gatewayNonce: gatewayNonce)
        // A replay meets a fresh gateway nonce.
        XCTAssertFalse(key.verify(proof, of: .linking, hello: hello, gatewayNonce: LinkKey.makeNonce()))
        XCTAssertFalse(key.verify(proof, of: .linking, hello: LinkHello(workerKey: "echo:42", nonce: LinkKey.makeNonce()), gatewayNonce: gatewayNonce))
        XCTAssertFalse(key.verify(proof, of: .linking, hello: LinkHello(workerKey: "evil:1", nonce: hello.nonce), gatewayNonce: gatewayNonce))
        let otherKey = try LinkKey(secret: secret + "!")
        XCTAssertFalse(otherKey.verify(proof, of: .linking, hello: hello, gatewayNonce: gatewayNonce))
        XCTAssertFalse(key.verify("not base64 at all", of: .linking, hello: hello, gatewayNonce: gatewayNonce))
        XCTAssertFalse(key.verify("", of: .linking, hello: hello, gatewayNonce: gatewayNonce))
    }

    func testNoncesAreFreshAndFullLength() {
        let nonces = (0..<100).map { _ in LinkKey.makeNonce() }
        XCTAssertEqual(Set(nonces).count, 100)
        for nonce in nonces { XCTAssertEqual(Data(base64Encoded: nonce)?.count, LinkKey.nonceLength) }
    }

    func testHelloCarriesNoKeyAndUsesGatewayWorkerNames() throws {
        let hello = LinkHello(workerKey: "BusinessWorker:0", nonce: "bm9uY2U=")
        let frame = GatewayFrame.handshake(.workerConnect, hello)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(frame.body.readableBytesView)) as? [String: String])
        XCTAssertEqual(object, ["worker_key": "BusinessWorker:0", "nonce": "bm9uY2U="])
        XCTAssertEqual(frame.handshakeMessage(as: LinkHello.self), hello)
    }

    func testAGatewayClientHelloNeedsNoName() {
        let frame = GatewayFrame(command: .gatewayClientConnect, body: .init(string: #"{"nonce":"bm9uY2U="}"#))
        XCTAssertEqual(frame.handshakeMessage(as: LinkHello.self), LinkHello(workerKey: "gateway-client", nonce: "bm9uY2U="))
    }

    func testMalformedHandshakeMessagesDecodeToNil() {
        for body in ["", "{}", "[1]", #"{"worker_key":"x"}"#, "\u{0}\u{1}"] {
            let frame = GatewayFrame(command: .workerConnect, body: .init(string: body))
            XCTAssertNil(frame.handshakeMessage(as: LinkHello.self), body)
        }
    }

    func testHandshakeResultRoundTrip() {
        for result in [
            HandshakeResult(accepted: true, proof: "cHJvb2Y="),
            HandshakeResult(accepted: false, reason: "wrong secret key"),
            HandshakeResult(accepted: true, proof: "cHJvb2Y=", lanePorts: [2900, 41237], lane: 1),
        ] {
            XCTAssertEqual(GatewayFrame.handshake(.handshakeResult, result).handshakeMessage(as: HandshakeResult.self), result)
        }
    }

    func testTheLanesOfAHandshakeResultAreNamedOnTheWireAndOptional() {
        let withLanes = GatewayFrame.handshake(.handshakeResult, HandshakeResult(accepted: true, proof: "cA==", lanePorts: [2900, 41237], lane: 0))
        let json = String(buffer: withLanes.body)
        XCTAssertTrue(json.contains(#""lane_ports":[2900,41237]"#), json)
        XCTAssertTrue(json.contains(#""lane":0"#), json)
        // A gateway from before lanes sends neither: one link, on its one port.
        let old = GatewayFrame(command: .handshakeResult, body: ByteBuffer(string: #"{"accepted":true,"proof":"cA=="}"#))
        XCTAssertEqual(old.handshakeMessage(as: HandshakeResult.self), HandshakeResult(accepted: true, proof: "cA=="))
    }

    func testAcknowledgementTrailersAreNamedOnTheWireAndOptional() {
        let offered = GatewayFrame.handshake(.handshakeResult, HandshakeResult(accepted: true, proof: "cA==", acknowledgementTrailers: true))
        let json = String(buffer: offered.body)
        XCTAssertTrue(json.contains(#""ack_trailers":true"#), json)
        XCTAssertEqual(offered.handshakeMessage(as: HandshakeResult.self)?.acknowledgementTrailers, true)
        // A gateway from before trailers does not offer them: it is sent acknowledgement frames.
        let old = GatewayFrame(command: .handshakeResult, body: ByteBuffer(string: #"{"accepted":true,"proof":"cA==","lane_ports":[2900],"lane":0}"#))
        XCTAssertNil(old.handshakeMessage(as: HandshakeResult.self)?.acknowledgementTrailers)
    }
}
