import DataCenterProtocol

/// Pure parsers of the inventory commands' output (their table formats, headers and all).
enum InventoryParsers {
    /// `virsh list --all`: ` Id   Name   State` rows; the state may be two words (`shut off`).
    static func virshList(_ text: String) -> [(name: String, state: String)] {
        tableRows(text).compactMap { fields in
            guard fields.count >= 3 else { return nil }
            return (String(fields[1]), fields[2...].joined(separator: " ").lowercased())
        }
    }

    /// `virsh domiflist NAME`: the first column is the host-side interface (`-` when it has none).
    static func virshInterfaces(_ text: String) -> [String] {
        tableRows(text).compactMap { fields in fields.first.map(String.init) }.filter { $0 != "-" }
    }

    /// `virsh domifaddr NAME --source arp`: the last column is `address/prefix`.
    static func virshAddresses(_ text: String) -> [String] {
        tableRows(text).compactMap { fields in fields.last.flatMap { validIP(String($0)) } }
    }

    /// `lxc-ls -f -F NAME,STATE,IPV4,IPV6`: addresses are comma-separated, `-` when none.
    static func lxcList(_ text: String) -> [VirtualServer] {
        tableRows(text).compactMap { fields in
            guard fields.count >= 2 else { return nil }
            return VirtualServer(name: String(fields[0]), state: fields[1].lowercased(), technology: "lxc", ips: addresses(fields[2...]))
        }
    }

    /// `lxc-info -n NAME`: one `Link:` line per network interface, naming its host-side veth.
    static func lxcInterfaces(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            return fields.count >= 2 && fields[0] == "Link:" ? String(fields[1]) : nil
        }
    }

    /// `prlctl list -i NAME`: each network adapter is a `netN (+) dev='DEVICE' ...` line under Hardware.
    static func prlctlInterfaces(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard let first = fields.first, first.hasPrefix("net"), first.dropFirst(3).allSatisfy(\.isNumber),
                let device = fields.first(where: { $0.hasPrefix("dev='") })
            else { return nil }
            let name = device.dropFirst("dev='".count).prefix { $0 != "'" }
            return name.isEmpty ? nil : String(name)
        }
    }

    /// `vzlist -a -H -o ctid,hostname,status,ip`: no header; the container is named by its CTID, and its
    /// veth (when it has one rather than venet) is `veth<CTID>.0`.
    static func vzlist(_ text: String) -> [VirtualServer] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 3 else { return nil }
            let ctid = String(fields[0])
            return VirtualServer(
                name: ctid, state: fields[2].lowercased(), technology: "openvz",
                ips: addresses(fields[3...]), interfaces: ["veth\(ctid).0"]
            )
        }
    }

    /// `prlctl list -a -H -o name,status,ip_configured`: no header; addresses comma-separated, `-` when none.
    static func prlctlList(_ text: String) -> [VirtualServer] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 2 else { return nil }
            return VirtualServer(name: String(fields[0]), state: fields[1].lowercased(), technology: "virtuozzo", ips: addresses(fields[2...]))
        }
    }

    /// The data rows of a table with a header line and, as virsh prints, a line of dashes under it.
    private static func tableRows(_ text: String) -> [[Substring]] {
        let lines = text.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }
        return lines.dropFirst().filter { !$0.allSatisfy { $0 == "-" || $0.isWhitespace } }.map {
            $0.split(whereSeparator: \.isWhitespace)
        }
    }

    private static func addresses(_ fields: ArraySlice<Substring>) -> [String] {
        fields.flatMap { $0.split(separator: ",") }.compactMap { validIP(String($0)) }
    }

    /// The address without a `/prefix`, when it is a valid IPv4 or IPv6 address.
    static func validIP(_ text: String) -> String? {
        let address = String(text.split(separator: "/").first ?? "")
        return ActionParameter.isIPAddress(address) ? address : nil
    }
}
