import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The master process of `datacentered start`: starts every child of the ``ClusterPlan``, restarts
/// the ones that end on their own (with ``RestartBackoff``), replaces workers one at a time on
/// reload, stops everything within the grace period, and reports live status.
public actor Supervisor {
    /// One child slot: the same name across restarts, the process currently in it.
    struct Slot {
        var specification: ChildSpecification
        var pid: pid_t?
        var startedAt: Date?
        var metricsAddress: HostPort?
        var backoff: RestartBackoff
        var restarts = 0
        var restartAt: Date?
        var restartTask: Task<Void, Never>?
    }

    public let version: String
    public let startedAt = Date()
    var configuration: SupervisorConfiguration
    let executable: String
    let logger: Logger
    private let output: OutputLog
    let group: any EventLoopGroup
    private let spawner = ProcessSpawner()
    private var reaper: ChildReaper?

    var slots: [Slot] = []
    var slotByPID: [pid_t: Int] = [:]
    /// Processes replaced by a reload: their end is expected.
    var retiring: [pid_t: String] = [:]
    /// Ends reported before the spawn that made the pid was recorded.
    private var earlyExits: [pid_t: ExitStatus] = [:]
    var exitsByRole: [String: [String: Int]] = [:]
    var isStopping = false
    var isReloading = false
    var isStarted = false

    /// - Parameter executable: the `datacentered` binary every child runs.
    public init(
        configuration: SupervisorConfiguration, executable: String, version: String,
        output: OutputLog, group: any EventLoopGroup, logger: Logger
    ) {
        self.configuration = configuration
        self.executable = executable
        self.version = version
        self.output = output
        self.group = group
        self.logger = logger
    }

    // MARK: Start and respawn

    /// Starts memcached (and waits for its port), then the gateways (and waits until each answers),
    /// then the workers and the agent.
    public func start() async throws {
        let reaper = ChildReaper { pid, status in Task { await self.childEnded(pid: pid, status: status) } }
        self.reaper = reaper
        let plan = ClusterPlan(configuration: configuration, executable: executable)
        slots = plan.children.map { Slot(specification: $0, backoff: makeBackoff()) }
        for role in SupervisorConfiguration.Role.allCases {
            let indexes = slots.indices.filter { slots[$0].specification.role == role }
            for index in indexes { try await spawn(index) }
            for index in indexes { await waitUntilReady(index) }
        }
        let counts = Dictionary(grouping: slots, by: \.specification.role.rawValue).map { "\($1.count) \($0)" }.sorted()
        isStarted = true
        logger.notice("cluster started: \(counts.joined(separator: ", ")); version \(version)")
    }

    func makeBackoff() -> RestartBackoff {
        RestartBackoff(
            maximumDelay: .milliseconds(Int64(configuration.supervisor.restartDelayMaxSeconds * 1000)),
            healthyUptime: .milliseconds(Int64(configuration.supervisor.restartResetSeconds * 1000))
        )
    }

    /// Starts the process of slot `index` and records it.
    @discardableResult
    func spawn(_ index: Int) async throws -> pid_t {
        let specification = slots[index].specification
        var command = specification.command
        var metricsAddress: HostPort?
        if specification.servesMetrics {
            let address = HostPort(host: configuration.supervisor.childMetricsHost, port: try FreePort.find(host: configuration.supervisor.childMetricsHost))
            command += ["--metrics", address.description]
            metricsAddress = address
        }
        var wrapper = [executable, "supervised-exec", "--parent", String(getpid())]
        if let user = specification.user { wrapper += ["--user", user] }
        wrapper += ["--"] + command

        let spawned = try await spawner.spawn(wrapper, environment: specification.environment, output: .pipe)
        let pid = spawned.pid
        reaper?.childStarted()
        if let output = spawned.output { relayOutput(of: specification, pid: pid, descriptor: output) }

        slots[index].pid = pid
        slots[index].startedAt = Date()
        slots[index].metricsAddress = metricsAddress
        slots[index].restartAt = nil
        slotByPID[pid] = index
        logger.info("started \(specification.name) pid=\(pid)")
        if let status = earlyExits.removeValue(forKey: pid) { childEnded(pid: pid, status: status) }
        return pid
    }

    private func relayOutput(of specification: ChildSpecification, pid: pid_t, descriptor: CInt) {
        let output = self.output
        let role = specification.role.rawValue
        _ = NIOPipeBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineSplitter()))
                    try channel.pipeline.syncOperations.addHandler(ChildOutputHandler(output: output, role: role, pid: pid))
                }
            }
            .takingOwnershipOfDescriptor(input: descriptor)
    }

    /// Waits (bounded) until the child answers: memcached its port, the others their metrics endpoint.
    func waitUntilReady(_ index: Int) async {
        let slot = slots[index]
        let deadline = ContinuousClock.now + .seconds(30)
        let address = slot.metricsAddress ?? (slot.specification.role == .memcached ? HostPort(slot.specification.listening) : nil)
        guard let address else { return }
        while ContinuousClock.now < deadline, slots[index].pid == slot.pid, slot.pid != nil {
            if await Self.answers(address, group: group) { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        logger.warning("\(slot.specification.name) is not answering on \(address) yet")
    }

    private static func answers(_ address: HostPort, group: any EventLoopGroup) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: group).connectTimeout(.seconds(1)).connect(host: address.host, port: address.port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    /// Called for every child that ended, expected or not.
    private func childEnded(pid: pid_t, status: ExitStatus) {
        let retired = retiring.removeValue(forKey: pid)
        guard retired != nil || slotByPID[pid] != nil else {
            earlyExits[pid] = status
            return
        }
        if let name = retired {
            let role = name.split(separator: "-").first.map(String.init) ?? name
            exitsByRole[role, default: [:]][status.description, default: 0] += 1
            logger.info("\(name) (pid \(pid), replaced) ended: \(status)")
            return
        }
        guard let index = slotByPID.removeValue(forKey: pid) else { return }
        let specification = slots[index].specification
        exitsByRole[specification.role.rawValue, default: [:]][status.description, default: 0] += 1
        let uptime = Date().timeIntervalSince(slots[index].startedAt ?? Date())
        slots[index].pid = nil
        slots[index].metricsAddress = nil
        if isStopping {
            logger.info("\(specification.name) (pid \(pid)) stopped: \(status)")
            return
        }
        scheduleRestart(index, why: "(pid \(pid)) ended: \(status)", uptime: uptime)
    }

    /// Restarts slot `index` after its back-off delay, and says so in the log.
    private func scheduleRestart(_ index: Int, why: String, uptime: TimeInterval) {
        let specification = slots[index].specification
        let delay = slots[index].backoff.delayAfterExit(uptime: .milliseconds(Int64(uptime * 1000)))
        slots[index].restarts += 1
        Counter(label: "datacentered_restarts_total", dimensions: [("role", specification.role.rawValue)]).increment()
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        let after = String(format: "%.1f", uptime)
        if slots[index].backoff.isCrashLooping {
            let times = slots[index].backoff.consecutiveFailures
            logger.error("\(specification.name) \(why) after \(after) s, \(times) times in a row; restarting in \(Int(seconds)) s")
        } else {
            logger.warning("\(specification.name) \(why) after \(after) s, unexpectedly; restarting now")
        }
        slots[index].restartAt = Date().addingTimeInterval(seconds)
        slots[index].restartTask = Task {
            if delay > .zero { try? await Task.sleep(for: delay) }
            guard !Task.isCancelled else { return }
            await self.restart(index)
        }
    }

    private func restart(_ index: Int) async {
        guard !isStopping, slots[index].pid == nil else { return }
        slots[index].restartTask = nil
        do {
            try await spawn(index)
        } catch {
            scheduleRestart(index, why: "could not be started (\(error))", uptime: 0)
        }
    }
}
