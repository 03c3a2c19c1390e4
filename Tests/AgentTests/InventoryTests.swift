import Foundation
import Logging
import XCTest

@testable import Agent

/// The inventory parsers on fixture text, and the collector running fixture commands.
final class InventoryTests: XCTestCase {
    func testVirshTablesWithTwoWordStates() {
        let list = InventoryParsers.virshList(" Id   Name    State\n------------------\n 1    vm101   running\n -    vm102   shut off\n\n")
        XCTAssertEqual(list.map(\.name), ["vm101", "vm102"])
        XCTAssertEqual(list.map(\.state), ["running", "shut off"])
        XCTAssertEqual(InventoryParsers.virshAddresses(" Name MAC Protocol Address\n----\n vnet0 52:54 ipv4 192.168.122.10/24\n - - ipv6 fe80::1/64\n"), ["192.168.122.10", "fe80::1"])
    }

    func testLXCOpenVZAndVirtuozzoListings() {
        let lxc = InventoryParsers.lxcList("NAME STATE IPV4 IPV6\nweb1 RUNNING 10.0.3.5, 10.0.3.6 -\ndb1 STOPPED - -\n")
        XCTAssertEqual(lxc, [
            VirtualServer(name: "web1", state: "running", technology: "lxc", ips: ["10.0.3.5", "10.0.3.6"]),
            VirtualServer(name: "db1", state: "stopped", technology: "lxc"),
        ])
        let openvz = InventoryParsers.vzlist("  101 ct101.example.com running 10.0.0.5 10.0.0.6\n  102 ct102 stopped -\n")
        XCTAssertEqual(openvz.map(\.name), ["101", "102"])
        XCTAssertEqual(openvz[0].ips, ["10.0.0.5", "10.0.0.6"])
        XCTAssertEqual(openvz[0].interfaces, ["veth101.0"])
        let virtuozzo = InventoryParsers.prlctlList("vz201 running 10.1.0.7,10.1.0.8/24\nvz202 stopped -\n")
        XCTAssertEqual(virtuozzo[0].ips, ["10.1.0.7", "10.1.0.8"])
        XCTAssertEqual(virtuozzo[1].ips, [])
        XCTAssertEqual(InventoryParsers.lxcInterfaces("Name: web1\nLink:   veth1A\n TX bytes: 1 KiB\nLink: veth1B\n"), ["veth1A", "veth1B"])
        let prlctlInfo = "Hardware:\n  hdd0 (+) image='/vz/x.hdd'\n  venet0 (+) type='routed'\n  net0 (+) dev='veth42d11f19' network='Bridged'\n  net1 (+) dev='vme001c42' mac=001C42\n"
        XCTAssertEqual(InventoryParsers.prlctlInterfaces(prlctlInfo), ["veth42d11f19", "vme001c42"])
    }

    func testCollectorRunsEveryConfiguredToolAndNoneGivesAnEmptyList() async throws {
        let commands = InventoryCommands(
            virsh: AgentFixtures.bin("fake-virsh"), lxcLs: AgentFixtures.bin("fake-lxc-ls"), lxcInfo: AgentFixtures.bin("fake-lxc-info"),
            vzlist: AgentFixtures.bin("fake-vzlist"), prlctl: AgentFixtures.bin("fake-prlctl"), searchPath: false
        )
        let servers = await InventoryCollector(commands: commands, logger: Logger(label: "test")).collect()
        XCTAssertEqual(servers.map(\.technology), ["libvirt", "libvirt", "lxc", "lxc", "openvz", "openvz", "virtuozzo", "virtuozzo"])
        let vm101 = try XCTUnwrap(servers.first { $0.name == "vm101" })
        XCTAssertEqual(vm101.ips, ["192.168.122.10", "fe80::5054:ff:feaa:bb01"])
        XCTAssertEqual(vm101.interfaces, ["vnet-vm101"])
        let vm102 = try XCTUnwrap(servers.first { $0.name == "vm102" })
        XCTAssertEqual(vm102.state, "shut off")
        XCTAssertEqual(vm102.ips, [], "a stopped domain has no addresses (virsh fails for it)")
        // Host-side interfaces for per-VPS bandwidth: lxc-info and prlctl list -i,
        // for running containers and VMs only.
        XCTAssertEqual(servers.first { $0.name == "web1" }?.interfaces, ["veth-web1-a", "veth-web1-b"])
        XCTAssertEqual(servers.first { $0.name == "db1" }?.interfaces, [])
        XCTAssertEqual(servers.first { $0.name == "vz201" }?.interfaces, ["veth-vz201"])
        XCTAssertEqual(servers.first { $0.name == "vz202" }?.interfaces, [])

        let none = await InventoryCollector(commands: InventoryCommands(searchPath: false), logger: Logger(label: "test")).collect()
        XCTAssertEqual(none, [])
        let missing = InventoryCommands(virsh: "/nonexistent/virsh", searchPath: false)
        let fromMissing = await InventoryCollector(commands: missing, logger: Logger(label: "test")).collect()
        XCTAssertEqual(fromMissing, [])
    }

    func testPerVPSBandwidthIsTheSumOfItsInterfacesSeenFromTheVPS() throws {
        let directory = NSTemporaryDirectory() + "agent-bw-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/proc/net", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let paths = SystemPaths(proc: directory + "/proc")
        func write(_ vnetRx: Int, _ vnetTx: Int) throws {
            try "Inter-|\n face |\n  eth0: 100 0 0 0 0 0 0 0 200 0 0 0 0 0 0 0\n vnet0: \(vnetRx) 0 0 0 0 0 0 0 \(vnetTx) 0 0 0 0 0 0 0\n"
                .write(toFile: directory + "/proc/net/dev", atomically: true, encoding: .utf8)
        }
        var collector = HostReportCollector(paths: paths, bandwidthStateFile: nil)
        let servers = [VirtualServer(name: "vm1", state: "running", technology: "libvirt", interfaces: ["vnet0"])]
        try write(1000, 5000)
        XCTAssertNil(try collector.bandwidth(servers: servers, at: 0), "no rates on the first read")
        try write(3000, 9000)
        let report = try XCTUnwrap(try collector.bandwidth(servers: servers, at: 2))
        XCTAssertEqual(report.vps.count, 1)
        XCTAssertEqual(report.vps[0].rxBytes, 9000, "what the host sends into vnet0 the VPS receives")
        XCTAssertEqual(report.vps[0].rxRate, 2000)
        XCTAssertEqual(report.vps[0].txRate, 1000)
        XCTAssertEqual(report.interfaces.map(\.name), ["eth0", "vnet0"])
    }

    func testHostInfoFromTheFixtureTree() throws {
        var collector = HostReportCollector(paths: AgentFixtures.systemPaths, bandwidthStateFile: nil)
        let info = try collector.hostInfo()
        XCTAssertEqual(info.hostname, "node-7.example")
        XCTAssertEqual(info.kernel, "6.1.0-28-amd64")
        XCTAssertEqual(info.os, "Debian GNU/Linux 12 (bookworm)")
        XCTAssertEqual(info.cpuCount, 2)
        XCTAssertEqual(info.memoryTotal, 16_318_852 * 1024)
        XCTAssertEqual(info.load, [0.52, 0.48, 0.41])
        XCTAssertEqual(info.uptimeSeconds, 864_123)
        XCTAssertEqual(info.ioWaitPercent, 1.6, "since boot on the first read: 1500 of 95200 jiffies")
        XCTAssertEqual(info.disks.map(\.mount).first, "/", "statvfs of the real mounts listed (those that exist here)")
    }
}
