import ClusterTesting
import Foundation

/// Network namespaces ("machines") on one bridge in the test's own namespace, each with one veth
/// interface and an address in a /24 of its own; removed by ``remove()``. Needs root.
final class NamespaceNetwork: @unchecked Sendable {
    static let ip = "/usr/sbin/ip"

    /// A command of `ip` failed.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let id: String
    private let subnet: String
    private let machines: [String]

    init(machines: [String]) throws {
        // Short and unique per run: interface names have at most 15 characters.
        id = String(UUID().uuidString.prefix(6)).lowercased()
        subnet = "10.213.\(Int.random(in: 1...250))"
        self.machines = machines
        do {
            try Self.run(["link", "add", bridge, "type", "bridge"])
            try Self.run(["addr", "add", "\(subnet).1/24", "dev", bridge])
            try Self.run(["link", "set", bridge, "up"])
            for (index, machine) in machines.enumerated() {
                let namespace = namespace(of: machine)
                let outside = "dv\(id)\(index)"
                try Self.run(["netns", "add", namespace])
                try Self.run(["link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", namespace])
                try Self.run(["link", "set", outside, "master", bridge, "up"])
                try Self.run(["-n", namespace, "addr", "add", "\(address(of: machine))/24", "dev", "eth0"])
                try Self.run(["-n", namespace, "link", "set", "eth0", "up"])
                try Self.run(["-n", namespace, "link", "set", "lo", "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    private var bridge: String { "dcbr\(id)" }

    func namespace(of machine: String) -> String { "dc-\(id)-\(machine)" }

    /// The machine's address on the bridge.
    func address(of machine: String) -> String {
        "\(subnet).\(10 + machines.firstIndex(of: machine)!)"
    }

    /// Takes the machine off the network without a reset: its interface goes down, so packets to and
    /// from it vanish and nothing answers for it.
    func cut(_ machine: String) throws {
        try Self.run(["-n", namespace(of: machine), "link", "set", "eth0", "down"])
    }

    /// Puts a machine that was cut off back on the network.
    func restore(_ machine: String) throws {
        try Self.run(["-n", namespace(of: machine), "link", "set", "eth0", "up"])
    }

    /// Deletes every namespace (and with them their interfaces) and the bridge.
    func remove() {
        for machine in machines { try? Self.run(["netns", "del", namespace(of: machine)]) }
        try? Self.run(["link", "del", bridge])
    }

    private static func run(_ arguments: [String]) throws {
        let outcome = try CommandRunner.run(ip, arguments, timeout: .seconds(10))
        guard outcome.status == 0 else {
            throw Failure(description: "ip \(arguments.joined(separator: " ")): \(outcome.standardError.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}
