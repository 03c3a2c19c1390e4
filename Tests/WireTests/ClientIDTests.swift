import NIOCore
import Wire
import XCTest

final class ClientIDTests: XCTestCase {
    func testTextFormIsAddressPortAndNumberInHex() {
        let id = ClientID(gatewayIP: 0x7F00_0001, gatewayPort: 2900, connectionNumber: 1)
        XCTAssertEqual(id.description, "7f0000010b5400000001")
        XCTAssertEqual("\(id)", "7f0000010b5400000001")
    }

    func testTextFormIsTwentyLowercaseHexDigitsWithLeadingZeros() {
        let samples = [
            ClientID(gatewayIP: 0, gatewayPort: 0, connectionNumber: 0),
            ClientID(gatewayIP: 0x0A00_0002, gatewayPort: 0x00AB, connectionNumber: 0xBEEF),
            ClientID(gatewayIP: 0xC0A8_01FE, gatewayPort: 0xFFFF, connectionNumber: 0x00C0_FFEE),
            ClientID(gatewayIP: .max, gatewayPort: .max, connectionNumber: .max),
        ]
        for id in samples {
            let text = id.description
            XCTAssertEqual(text.count, 20, text)
            XCTAssertTrue(text.allSatisfy { "0123456789abcdef".contains($0) }, text)
        }
        XCTAssertEqual(samples[0].description, "00000000000000000000")
        XCTAssertEqual(samples[1].description, "0a00000200ab0000beef")
        XCTAssertEqual(samples[2].description, "c0a801feffff00c0ffee")
        XCTAssertEqual(samples[3].description, "ffffffffffffffffffff")
    }

    func testEachFieldLandsInItsOwnDigits() {
        XCTAssertEqual(ClientID(gatewayIP: 0x1234_5678, gatewayPort: 0, connectionNumber: 0).description, "12345678000000000000")
        XCTAssertEqual(ClientID(gatewayIP: 0, gatewayPort: 0x9ABC, connectionNumber: 0).description, "000000009abc00000000")
        XCTAssertEqual(ClientID(gatewayIP: 0, gatewayPort: 0, connectionNumber: 0xDEF0_1234).description, "000000000000def01234")
    }

    func testParsesItsTextForm() throws {
        let id = try XCTUnwrap(ClientID("7f0000010b5400000001"))
        XCTAssertEqual(id.gatewayIP, 0x7F00_0001)
        XCTAssertEqual(id.gatewayPort, 2900)
        XCTAssertEqual(id.connectionNumber, 1)
        XCTAssertEqual(id.gateway, GatewayAddress("127.0.0.1:2900"))
    }

    func testParseRoundTrip() {
        let samples = [
            ClientID(gatewayIP: 0, gatewayPort: 0, connectionNumber: 0),
            ClientID(gatewayIP: 0x7F00_0001, gatewayPort: 2900, connectionNumber: 1),
            ClientID(gatewayIP: 0x0A0B_0C0D, gatewayPort: 40000, connectionNumber: 123_456_789),
            ClientID(gatewayIP: .max, gatewayPort: .max, connectionNumber: .max),
        ]
        for id in samples {
            XCTAssertEqual(ClientID(id.description), id)
            XCTAssertEqual(ClientID(Substring(id.description)), id)
        }
    }

    func testMaximumValues() throws {
        let id = try XCTUnwrap(ClientID("ffffffffffffffffffff"))
        XCTAssertEqual(id.gatewayIP, .max)
        XCTAssertEqual(id.gatewayPort, .max)
        XCTAssertEqual(id.connectionNumber, .max)
        XCTAssertEqual(id.gateway.description, "255.255.255.255:65535")
    }

    func testUppercaseAndMixedCaseAreAccepted() throws {
        let lower = try XCTUnwrap(ClientID("c0a801feffff00c0ffee"))
        XCTAssertEqual(ClientID("C0A801FEFFFF00C0FFEE"), lower)
        XCTAssertEqual(ClientID("C0a801FeFFff00c0FfEe"), lower)
        // The text form stays lowercase whatever was parsed.
        XCTAssertEqual(ClientID("C0A801FEFFFF00C0FFEE")?.description, "c0a801feffff00c0ffee")
    }

    func testWrongLengthIsRejected() {
        for text in ["", "7", "7f0000010b540000000", "7f0000010b54000000010", "7f0000010b5400000001 ", " 7f0000010b5400000001"] {
            XCTAssertNil(ClientID(text), "'\(text)'")
        }
    }

    func testNonHexIsRejected() {
        for text in [
            "7f0000010b540000000g", "g7f0000010b540000000", "7f000001-0b5400000001".replacingOccurrences(of: "0b", with: ""),
            "7f0000010b54000000 1", "7f0000010b5400000x01", "+f0000010b5400000001", "7f0000010b540000000\u{0}",
            "7f0000010b540000000é", "７f0000010b5400000001",
        ] {
            XCTAssertNil(ClientID(text), "'\(text)'")
        }
    }

    func testGatewayAndConnectionInit() throws {
        let gateway = try XCTUnwrap(GatewayAddress("10.0.0.7:2901"))
        let id = ClientID(gateway: gateway, connectionNumber: 42)
        XCTAssertEqual(id, ClientID(gatewayIP: 0x0A00_0007, gatewayPort: 2901, connectionNumber: 42))
        XCTAssertEqual(id.gateway, gateway)
    }

    func testFrameClientIDIsDerivedFromLocalAddressAndConnectionID() {
        let frame = GatewayFrame(
            command: .onMessage,
            localIP: 0x7F00_0001,
            localPort: 2900,
            clientIP: 0x0102_0304,
            clientPort: 5555,
            connectionID: 1,
            gatewayPort: 8282
        )
        XCTAssertEqual(frame.clientID, ClientID(gatewayIP: 0x7F00_0001, gatewayPort: 2900, connectionNumber: 1))
        XCTAssertEqual(frame.clientID.description, "7f0000010b5400000001")
        // The client's own address and the public port play no part.
        var other = frame
        other.clientIP = 0
        other.clientPort = 0
        other.gatewayPort = 1
        XCTAssertEqual(other.clientID, frame.clientID)
    }

    func testComparableOrdersByAddressThenPortThenNumber() {
        let ordered = [
            ClientID(gatewayIP: 1, gatewayPort: 0, connectionNumber: 0),
            ClientID(gatewayIP: 1, gatewayPort: 0, connectionNumber: 1),
            ClientID(gatewayIP: 1, gatewayPort: 0, connectionNumber: .max),
            ClientID(gatewayIP: 1, gatewayPort: 1, connectionNumber: 0),
            ClientID(gatewayIP: 1, gatewayPort: .max, connectionNumber: 0),
            ClientID(gatewayIP: 2, gatewayPort: 0, connectionNumber: 0),
            ClientID(gatewayIP: .max, gatewayPort: 0, connectionNumber: 0),
        ]
        XCTAssertEqual(ordered.reversed().sorted(), ordered)
        for (lhs, rhs) in zip(ordered, ordered.dropFirst()) {
            XCTAssertLessThan(lhs, rhs)
            XCTAssertFalse(rhs < lhs)
            // The text form sorts the same way, so ids can be ordered as strings too.
            XCTAssertLessThan(lhs.description, rhs.description)
        }
        XCTAssertFalse(ordered[0] < ordered[0])
    }

    func testHashableDistinguishesEveryField() {
        let ids: Set<ClientID> = [
            ClientID(gatewayIP: 1, gatewayPort: 2, connectionNumber: 3),
            ClientID(gatewayIP: 1, gatewayPort: 2, connectionNumber: 3),
            ClientID(gatewayIP: 9, gatewayPort: 2, connectionNumber: 3),
            ClientID(gatewayIP: 1, gatewayPort: 9, connectionNumber: 3),
            ClientID(gatewayIP: 1, gatewayPort: 2, connectionNumber: 9),
        ]
        XCTAssertEqual(ids.count, 4)
    }
}
