import Logging

/// The VPS list of this host, from every virtualisation tool that is installed (several may coexist).
public struct InventoryCollector: Sendable {
    public let commands: InventoryCommands
    private let logger: Logger

    public init(commands: InventoryCommands, logger: Logger) {
        self.commands = commands
        self.logger = logger
    }

    /// Every VPS, ordered by technology and name. A tool that fails is logged and contributes
    /// nothing this time; the others still count.
    public func collect() async -> [VirtualServer] {
        var servers: [VirtualServer] = []
        if let virsh = commands.resolve(commands.virsh, name: "virsh") {
            servers += await attempt("virsh") { try await libvirt(virsh) }
        }
        if let lxcLs = commands.resolve(commands.lxcLs, name: "lxc-ls") {
            servers += await attempt("lxc-ls") { try await lxc(lxcLs) }
        }
        if let vzlist = commands.resolve(commands.vzlist, name: "vzlist") {
            servers += await attempt("vzlist") {
                InventoryParsers.vzlist(try await CollectedCommand.run(vzlist, ["-a", "-H", "-o", "ctid,hostname,status,ip"]))
            }
        }
        if let prlctl = commands.resolve(commands.prlctl, name: "prlctl") {
            servers += await attempt("prlctl") { try await virtuozzo(prlctl) }
        }
        return servers.sorted { ($0.technology, $0.name) < ($1.technology, $1.name) }
    }

    /// libvirt lists domains in one call and their interfaces and addresses in one call each; a domain
    /// that is shut off has no addresses, which virsh reports as an error.
    private func libvirt(_ virsh: String) async throws -> [VirtualServer] {
        var servers: [VirtualServer] = []
        for domain in InventoryParsers.virshList(try await CollectedCommand.run(virsh, ["list", "--all"])) {
            let interfaces = (try? await CollectedCommand.run(virsh, ["domiflist", domain.name])).map(InventoryParsers.virshInterfaces) ?? []
            let ips = (try? await CollectedCommand.run(virsh, ["domifaddr", domain.name, "--source", "arp"])).map(InventoryParsers.virshAddresses) ?? []
            servers.append(VirtualServer(name: domain.name, state: domain.state, technology: "libvirt", ips: ips, interfaces: interfaces))
        }
        return servers
    }

    /// LXC lists containers in one call; `lxc-info` names the host-side veth of each running one
    /// (a stopped container has none).
    private func lxc(_ lxcLs: String) async throws -> [VirtualServer] {
        var servers = InventoryParsers.lxcList(try await CollectedCommand.run(lxcLs, ["-f", "-F", "NAME,STATE,IPV4,IPV6"]))
        guard let lxcInfo = commands.resolve(commands.lxcInfo, name: "lxc-info") else { return servers }
        for index in servers.indices where servers[index].state == "running" {
            let info = try? await CollectedCommand.run(lxcInfo, ["-n", servers[index].name])
            servers[index].interfaces = info.map(InventoryParsers.lxcInterfaces) ?? []
        }
        return servers
    }

    /// Virtuozzo lists VMs and containers in one call; `prlctl list -i` names the host-side device of
    /// each network adapter of a running one (a routed venet address has no device of its own).
    private func virtuozzo(_ prlctl: String) async throws -> [VirtualServer] {
        var servers = InventoryParsers.prlctlList(try await CollectedCommand.run(prlctl, ["list", "-a", "-H", "-o", "name,status,ip_configured"]))
        for index in servers.indices where servers[index].state == "running" {
            let info = try? await CollectedCommand.run(prlctl, ["list", "-i", servers[index].name])
            servers[index].interfaces = info.map(InventoryParsers.prlctlInterfaces) ?? []
        }
        return servers
    }

    private func attempt(_ tool: String, _ body: () async throws -> [VirtualServer]) async -> [VirtualServer] {
        do {
            return try await body()
        } catch {
            logger.warning("inventory: \(tool) failed, its VPS are left out of this report: \(error)")
            return []
        }
    }
}
