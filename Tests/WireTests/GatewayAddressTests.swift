import Wire
import XCTest

final class GatewayAddressTests: XCTestCase {
    func testParsesDottedQuadAndPort() throws {
        let address = try XCTUnwrap(GatewayAddress("127.0.0.1:2900"))
        XCTAssertEqual(address.ip, 0x7F00_0001)
        XCTAssertEqual(address.port, 2900)
        XCTAssertEqual(address, GatewayAddress(ip: 0x7F00_0001, port: 2900))
    }

    func testFormats() {
        let address = GatewayAddress(ip: 0xC0A8_0A01, port: 8282)
        XCTAssertEqual(address.host, "192.168.10.1")
        XCTAssertEqual(address.description, "192.168.10.1:8282")
    }

    func testExtremes() throws {
        XCTAssertEqual(GatewayAddress("0.0.0.0:0"), GatewayAddress(ip: 0, port: 0))
        XCTAssertEqual(GatewayAddress("255.255.255.255:65535"), GatewayAddress(ip: .max, port: .max))
        XCTAssertEqual(GatewayAddress(ip: .max, port: .max).description, "255.255.255.255:65535")
        XCTAssertEqual(GatewayAddress(ip: 0, port: 0).description, "0.0.0.0:0")
    }

    func testRoundTrip() {
        for text in ["10.0.0.1:1", "1.2.3.4:5", "172.16.254.3:65535", "8.8.4.4:53", "255.0.255.0:40000"] {
            XCTAssertEqual(GatewayAddress(text)?.description, text)
        }
        for address in [GatewayAddress(ip: 0x0102_0304, port: 7), GatewayAddress(ip: 0xFF00_00FF, port: 65534)] {
            XCTAssertEqual(GatewayAddress(address.description), address)
            XCTAssertEqual(GatewayAddress(Substring(address.description)), address)
        }
    }

    func testOctetOrderIsBigEndian() {
        XCTAssertEqual(GatewayAddress.parseIPv4("1.2.3.4"), 0x0102_0304)
        XCTAssertEqual(GatewayAddress.formatIPv4(0x0102_0304), "1.2.3.4")
        XCTAssertEqual(GatewayAddress.parseIPv4("255.0.0.0"), 0xFF00_0000)
        XCTAssertEqual(GatewayAddress.parseIPv4("0.0.0.255"), 0x0000_00FF)
    }

    func testInvalidFormsAreRejected() {
        let invalid = [
            "",
            "127.0.0.1",  // missing port
            "127.0.0.1:",  // empty port
            ":2900",  // missing address
            "1.2.3.4.5:80",  // five octets
            "1.2.3:80",  // three octets
            "1.2.3.256:80",  // octet 256
            "256.1.1.1:80",
            "1.2.3.4:70000",  // port out of range
            "1.2.3.4:65536",
            "1.2.3.4:-1",
            "1.2.3.4:80:90",
            "1..3.4:80",
            ".1.2.3:80",
            "1.2.3.:80",
            "a.b.c.d:80",
            "1.2.3.4:http",
            "localhost:80",
            "[::1]:80",
            " 1.2.3.4:80",
            "1.2.3.4:80 ",
            "1.2.3.4 :80",
        ]
        for text in invalid {
            XCTAssertNil(GatewayAddress(text), "'\(text)' was accepted")
        }
    }

    func testEmptyFieldsAndSignsAreRejected() {
        // Only `a.b.c.d:port` with decimal digits is an address.
        for text in ["1.2.3.4::80", "1.2.3.4:80:", ":1.2.3.4:80", "1.2.3.4:+80", "+1.2.3.4:80", "1.+2.3.4:80", "1.2.3.-0:80"] {
            XCTAssertNil(GatewayAddress(text), "'\(text)' was accepted")
        }
        for text in ["+1.2.3.4", "1.2.3.+4", "-0.1.2.3"] {
            XCTAssertNil(GatewayAddress.parseIPv4(text), "'\(text)' was accepted")
        }
    }

    func testParseIPv4RejectsBadForms() {
        for text in ["", "1.2.3", "1.2.3.4.5", "1.2.3.256", "1.2.3.1000", "1.2..4", "a.b.c.d", "1.2.3.4:80"] {
            XCTAssertNil(GatewayAddress.parseIPv4(text), "'\(text)' was accepted")
        }
    }

    func testComparableOrdersByAddressThenPort() {
        let ordered = [
            GatewayAddress(ip: 0x0A00_0001, port: 1),
            GatewayAddress(ip: 0x0A00_0001, port: 2900),
            GatewayAddress(ip: 0x0A00_0002, port: 0),
            GatewayAddress(ip: 0xC0A8_0001, port: 0),
        ]
        XCTAssertEqual(ordered.reversed().sorted(), ordered)
        for (lhs, rhs) in zip(ordered, ordered.dropFirst()) {
            XCTAssertLessThan(lhs, rhs)
        }
    }
}
