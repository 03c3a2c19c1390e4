/// One VPS on this host, as its virtualisation tool lists it.
public struct VirtualServer: Sendable, Equatable, Codable {
    public var name: String
    /// The tool's own word for it (`running`, `shut off`, `STOPPED`, ...), lower-cased.
    public var state: String
    /// `libvirt`, `lxc`, `openvz` or `virtuozzo`.
    public var technology: String
    public var ips: [String]
    /// The host-side network interfaces that carry its traffic (for per-VPS bandwidth); not reported.
    public var interfaces: [String]

    public init(name: String, state: String, technology: String, ips: [String] = [], interfaces: [String] = []) {
        self.name = name
        self.state = state
        self.technology = technology
        self.ips = ips
        self.interfaces = interfaces
    }
}
