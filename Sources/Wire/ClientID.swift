/// A client's cluster-wide id: the internal IPv4 address and port of the gateway that holds the
/// connection, and the gateway's connection number for it.
///
/// Its text form is GatewayWorker's: 20 lowercase hex digits, `IIIIIIII PPPP NNNNNNNN`
/// (address, port, number, big-endian), so any process can route to the client without a look-up.
public struct ClientID: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The gateway's internal IPv4 address, host order.
    public var gatewayIP: UInt32
    /// The gateway's internal port.
    public var gatewayPort: UInt16
    /// The gateway-local connection number.
    public var connectionNumber: UInt32

    public init(gatewayIP: UInt32, gatewayPort: UInt16, connectionNumber: UInt32) {
        self.gatewayIP = gatewayIP
        self.gatewayPort = gatewayPort
        self.connectionNumber = connectionNumber
    }

    public init(gateway: GatewayAddress, connectionNumber: UInt32) {
        self.init(gatewayIP: gateway.ip, gatewayPort: gateway.port, connectionNumber: connectionNumber)
    }

    /// Parses the 20-hex-digit form; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 20 else { return nil }
        var value: [UInt8] = []
        value.reserveCapacity(10)
        var index = 0
        while index < 20 {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            value.append(high << 4 | low)
            index += 2
        }
        func integer<T: FixedWidthInteger>(_ range: Range<Int>, as: T.Type) -> T {
            value[range].reduce(T.zero) { $0 << 8 | T($1) }
        }
        self.init(
            gatewayIP: integer(0..<4, as: UInt32.self),
            gatewayPort: integer(4..<6, as: UInt16.self),
            connectionNumber: integer(6..<10, as: UInt32.self)
        )
    }

    /// The gateway that holds this client.
    public var gateway: GatewayAddress { GatewayAddress(ip: gatewayIP, port: gatewayPort) }

    public var description: String {
        Self.hex(gatewayIP, digits: 8) + Self.hex(UInt32(gatewayPort), digits: 4) + Self.hex(connectionNumber, digits: 8)
    }

    public static func < (lhs: ClientID, rhs: ClientID) -> Bool {
        (lhs.gatewayIP, lhs.gatewayPort, lhs.connectionNumber) < (rhs.gatewayIP, rhs.gatewayPort, rhs.connectionNumber)
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: digits - text.count) + text
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
