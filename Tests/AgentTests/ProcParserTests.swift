import XCTest

@testable import Agent

/// The /proc, /etc parsers against fixture text (Fixtures/, node_exporter's way): nothing here
/// depends on the machine the tests run on.
final class ProcParserTests: XCTestCase {
    private var fixtures: SystemPaths { AgentFixtures.systemPaths }

    func testCPUStatParsesTotalAndCoresInOrder() throws {
        let stat = try CPUStat.parse(try fixtures.readProc("stat"))
        XCTAssertEqual(stat.total, CPUTimes(user: 10000, nice: 500, system: 3000, idle: 80000, ioWait: 1500, irq: 0, softIRQ: 200, steal: 0))
        XCTAssertEqual(stat.cores.count, 2)
        XCTAssertEqual(stat.cores[1].ioWait, 500)
    }

    func testCPUStatRejectsTextWithoutCPULine() {
        XCTAssertThrowsError(try CPUStat.parse("intr 1 2 3\nctxt 5\n"))
        XCTAssertThrowsError(try CPUStat.parse("cpu  1 2 x 4\n"))
    }

    func testCPUUsageComesFromDeltasTotalAndPerCore() throws {
        let first = try CPUStat.parse("cpu  100 0 100 800 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0\n")
        // 200 jiffies later: core 0 fully busy, core 1 idle except 50 of I/O wait.
        let second = try CPUStat.parse("cpu  200 0 200 850 50 0 0 0\ncpu0 150 0 50 400 0 0 0 0\ncpu1 50 0 150 450 50 0 0 0\n")
        var meter = CPUUsageMeter()
        XCTAssertNil(meter.record(first), "the first sample has nothing to compare with")
        let usage = try XCTUnwrap(meter.record(second))
        XCTAssertEqual(usage.cores, [100, 50])
        XCTAssertEqual(usage.total, 66.7)
        XCTAssertEqual(usage.ioWaitPercent, 16.7)
    }

    func testCPUUsageSkipsASampleWhenCoresChanged() throws {
        var meter = CPUUsageMeter()
        _ = meter.record(try CPUStat.parse("cpu  1 0 1 8 0\ncpu0 1 0 1 8 0\n"))
        XCTAssertNil(meter.record(try CPUStat.parse("cpu  2 0 2 9 0\ncpu0 1 0 1 8 0\ncpu1 1 0 1 1 0\n")))
    }

    func testMemoryInfoInBytesWithFallbackForOldKernels() throws {
        let memory = try MemoryInfo.parse(try fixtures.readProc("meminfo"))
        XCTAssertEqual(memory.total, 16_318_852 * 1024)
        XCTAssertEqual(memory.available, 12_057_124 * 1024)
        let old = try MemoryInfo.parse("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 1 kB\n")
        XCTAssertEqual(old.available, 111 * 1024)
        XCTAssertThrowsError(try MemoryInfo.parse("MemFree: 1 kB\n"))
    }

    func testCPUInfoModelAndCount() throws {
        let info = CPUInfo.parse(try fixtures.readProc("cpuinfo"))
        XCTAssertEqual(info, CPUInfo(model: "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", count: 2))
        XCTAssertEqual(CPUInfo.parse("processor : 0\nHardware : BCM2835\n").model, "BCM2835")
    }

    func testOSReleasePrettyNameUnquoted() throws {
        XCTAssertEqual(OSRelease.prettyName(try fixtures.readEtc("os-release")), "Debian GNU/Linux 12 (bookworm)")
        XCTAssertEqual(OSRelease.prettyName("NAME='Alpine Linux'\nVERSION=3.20\n"), "Alpine Linux 3.20")
        XCTAssertEqual(OSRelease.prettyName(""), "Linux")
    }

    func testRealMountsSkipVirtualFilesystemsAndBindMountsAndUnescapePaths() throws {
        let mounts = MountTable.realMounts(try fixtures.readProc("mounts"))
        XCTAssertEqual(mounts.map(\.path), ["/", "/vz", "/mnt/nfs"])
        XCTAssertEqual(MountTable.realMounts("/dev/sdc1 /srv/a\\040b ext4 rw 0 0\n").map(\.path), ["/srv/a b"])
    }

    func testDiskSpaceOfARealMount() throws {
        let root = try XCTUnwrap(DiskSpace.of("/"))
        XCTAssertGreaterThan(root.total, 0)
        XCTAssertLessThanOrEqual(root.free, root.total)
        XCTAssertNil(DiskSpace.of("/no/such/mount/\(UUID().uuidString)"))
    }

    func testLoadAverageAndUptime() throws {
        XCTAssertEqual(try LoadAverage.parse(try fixtures.readProc("loadavg")), [0.52, 0.48, 0.41])
        XCTAssertEqual(try LoadAverage.parseUptime(try fixtures.readProc("uptime")), 864_123)
        XCTAssertThrowsError(try LoadAverage.parse("garbage"))
    }

    func testNetDevCountersByInterface() throws {
        let counters = try InterfaceCounters.parse(try fixtures.readProc("net/dev"))
        XCTAssertEqual(counters["eth0"], InterfaceCounters(rxBytes: 1_234_567_890, txBytes: 987_654_321))
        XCTAssertEqual(counters["vnet0"], InterfaceCounters(rxBytes: 5_000_000, txBytes: 7_000_000))
        XCTAssertEqual(counters.count, 3)
        XCTAssertThrowsError(try InterfaceCounters.parse("eth0: 1 2 3\n"))
    }

    func testBandwidthRatesSurviveARestartThroughTheStateFile() throws {
        let stateFile = NSTemporaryDirectory() + "bandwidth-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: stateFile) }
        var meter = BandwidthMeter(stateFile: stateFile)
        let first = meter.record(["eth0": InterfaceCounters(rxBytes: 1000, txBytes: 500)], at: 100)
        XCTAssertNil(first[0].rxRate, "no rate without an earlier sample")

        var restarted = BandwidthMeter(stateFile: stateFile)
        let second = restarted.record(["eth0": InterfaceCounters(rxBytes: 3000, txBytes: 1500), "eth1": InterfaceCounters(rxBytes: 1, txBytes: 1)], at: 110)
        XCTAssertEqual(second.map(\.name), ["eth0", "eth1"])
        XCTAssertEqual(second[0].rxRate, 200)
        XCTAssertEqual(second[0].txRate, 100)
        XCTAssertNil(second[1].rxRate, "an interface new since the last sample has no rate yet")

        let reset = restarted.record(["eth0": InterfaceCounters(rxBytes: 400, txBytes: 0)], at: 120)
        XCTAssertEqual(reset[0].rxRate, 40, "a counter that went down was reset: count from zero")
    }
}
