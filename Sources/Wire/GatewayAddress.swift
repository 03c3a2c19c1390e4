/// A gateway's internal (worker-facing) IPv4 address and port: what the registry lists and a client id encodes.
public struct GatewayAddress: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// IPv4 address, host order.
    public var ip: UInt32
    public var port: UInt16

    public init(ip: UInt32, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    /// Parses `a.b.c.d:port`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let ip = Self.parseIPv4(parts[0]), let port = Self.decimal(parts[1], as: UInt16.self)
        else { return nil }
        self.init(ip: ip, port: port)
    }

    /// The dotted-quad form of the address.
    public var host: String { Self.formatIPv4(ip) }

    public var description: String { "\(host):\(port)" }

    public static func < (lhs: GatewayAddress, rhs: GatewayAddress) -> Bool {
        (lhs.ip, lhs.port) < (rhs.ip, rhs.port)
    }

    /// Parses a dotted-quad IPv4 address into host order.
    public static func parseIPv4(_ text: some StringProtocol) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard octet.utf8.count <= 3, let byte = decimal(octet, as: UInt8.self) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    /// Parses a run of ASCII decimal digits; unlike `T(text)`, refuses a sign, so `+80` or `-0` is not a field.
    private static func decimal<T: FixedWidthInteger>(_ text: some StringProtocol, as: T.Type) -> T? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        return T(text)
    }

    /// Formats a host-order IPv4 address as a dotted quad.
    public static func formatIPv4(_ ip: UInt32) -> String {
        "\(ip >> 24).\(ip >> 16 & 0xff).\(ip >> 8 & 0xff).\(ip & 0xff)"
    }
}
