import DataCenterProtocol

extension ActionParameter {
    /// What is wrong with `value` for this parameter's type, or nil when it is acceptable:
    /// * `vps-name`: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`, so never an option (leading dash) nor a path;
    /// * `ip`: a literal IPv4 or IPv6 address;
    /// * `int`: a decimal integer;
    /// * `string`: up to 1024 characters, no control characters;
    /// * `enum`: one of `values`.
    func problem(with value: String) -> String? {
        switch type {
        case .vpsName:
            return Self.isVPSName(value) ? nil : "is not a VPS name ([A-Za-z0-9][A-Za-z0-9._-]{0,63})"
        case .ip:
            return InventoryParsers.isIPAddress(value) ? nil : "is not an IP address"
        case .int:
            return Int(value) != nil ? nil : "is not an integer"
        case .string:
            let control = value.unicodeScalars.contains { $0.properties.generalCategory == .control }
            return value.count <= 1024 && !control ? nil : "is longer than 1024 characters or contains control characters"
        case .enum:
            return values?.contains(value) == true ? nil : "is not one of \((values ?? []).joined(separator: ", "))"
        }
    }

    static func isVPSName(_ value: String) -> Bool {
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        let bytes = Array(value.utf8)
        guard (1...64).contains(bytes.count), isAlphanumeric(bytes[0]) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}
