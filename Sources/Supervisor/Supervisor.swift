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
    private var configuration: SupervisorConfiguration
    private let executable: String
    private let configurationPath: String?
    private let logger: Logger
    private let output: OutputLog
    private let group: any EventLoopGroup
    private let spawner = ProcessSpawner()
    private var reaper: ChildReaper?

    private var slots: [Slot] = []
    private var slotByPID: [pid_t: Int] = [:]
    /// Processes replaced by a reload: their end is expected.
    private var retiring: [pid_t: String] = [:]
    /// Ends reported before the spawn that made the pid was recorded.
    private var earlyExits: [pid_t: ExitStatus] = [:]
    private var exitsByRole: [String: [String: Int]] = [:]
    private var isStopping = false
    private var isReloading = false

    /// - Parameters:
    ///   - executable: the `datacentered` binary every child runs.
    ///   - configurationPath: the absolute path of the configuration file (re-read on reload).
    public init(
        configuration: SupervisorConfiguration, executable: String, configurationPath: String?, version: String,
        output: OutputLog, group: any EventLoopGroup, logger: Logger
    ) {
        self.configuration = configuration
        self.executable = executable
        self.configurationPath = configurationPath
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
        let plan = ClusterPlan(configuration: configuration, executable: executable, configurationPath: configurationPath)
        slots = plan.children.map { Slot(specification: $0, backoff: makeBackoff()) }
        for role in SupervisorConfiguration.Role.allCases {
            let indexes = slots.indices.filter { slots[$0].specification.role == role }
            for index in indexes { try await spawn(index) }
            for index in indexes { await waitUntilReady(index) }
        }
        let counts = Dictionary(grouping: slots, by: \.specification.role.rawValue).map { "\($1.count) \($0)" }.sorted()
        logger.notice("cluster started: \(counts.joined(separator: ", ")); version \(version)")
    }

    private func makeBackoff() -> RestartBackoff {
        RestartBackoff(
            maximumDelay: .milliseconds(Int64(configuration.supervisor.restartDelayMaxSeconds * 1000)),
            healthyUptime: .milliseconds(Int64(configuration.supervisor.restartResetSeconds * 1000))
        )
    }

    /// Starts the process of slot `index` and records it.
    @discardableResult
    private func spawn(_ index: Int) async throws -> pid_t {
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
    private func waitUntilReady(_ index: Int) async {
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

    // MARK: Stop

    /// Stops every child: SIGTERM to all but memcached, SIGKILL to any still there after the grace
    /// period; then memcached the same way (gateways leave the registry before it goes).
    public func stop() async {
        isStopping = true
        for index in slots.indices {
            slots[index].restartTask?.cancel()
            slots[index].restartTask = nil
        }
        let grace = Duration.milliseconds(Int64(configuration.supervisor.stopGraceSeconds * 1000))
        let others = slots.compactMap { $0.specification.role == .memcached ? nil : $0.pid } + Array(retiring.keys)
        await terminate(others, grace: grace)
        await terminate(slots.compactMap { $0.specification.role == .memcached ? $0.pid : nil }, grace: grace)
        logger.notice("cluster stopped")
    }

    /// SIGTERM to `pids`, then SIGKILL to the ones still running after `grace`.
    private func terminate(_ pids: [pid_t], grace: Duration) async {
        guard !pids.isEmpty else { return }
        for pid in pids { kill(pid, SIGTERM) }
        let ended = await waitForExits(pids, timeout: grace)
        let remaining = pids.filter { !ended.contains($0) }
        guard !remaining.isEmpty else { return }
        logger.warning("killing \(remaining.count) process(es) still running after the \(grace) grace period: \(remaining)")
        for pid in remaining { kill(pid, SIGKILL) }
        _ = await waitForExits(remaining, timeout: .seconds(5))
    }

    /// Waits until each of `pids` ended or `timeout` passed; returns the ones that ended.
    private func waitForExits(_ pids: [pid_t], timeout: Duration) async -> Set<pid_t> {
        let deadline = ContinuousClock.now + timeout
        while true {
            let ended = Set(pids.filter { slotByPID[$0] == nil && retiring[$0] == nil })
            if ended.count == pids.count || ContinuousClock.now >= deadline { return ended }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Reload

    /// Replaces the workers one at a time with `configuration`'s: each new worker is linked to as
    /// many gateways as the one it replaces before that one gets SIGTERM (it finishes the event in
    /// hand, and the gateways re-send what it had not acknowledged). Gateways keep running.
    public func reload(with configuration: SupervisorConfiguration) async throws -> String {
        guard !isStopping else { throw SupervisorError.controlFailed(reason: "the cluster is stopping") }
        guard !isReloading else { throw SupervisorError.controlFailed(reason: "a reload is already under way") }
        isReloading = true
        defer { isReloading = false }
        self.configuration = configuration
        let plan = ClusterPlan(configuration: configuration, executable: executable, configurationPath: configurationPath)
        let workers = plan.children.filter { $0.role == .worker }
        let grace = Duration.milliseconds(Int64(configuration.supervisor.stopGraceSeconds * 1000))
        var replaced = 0
        for (number, specification) in workers.enumerated() {
            if let index = slots.firstIndex(where: { $0.specification.name == specification.name }) {
                let old = slots[index]
                slots[index].specification = specification
                slots[index].restartTask?.cancel()
                guard let oldPID = old.pid else {
                    try await spawn(index)
                    continue
                }
                let linksBefore = await Self.statistics(of: old.metricsAddress, group: group)?.counters["gatewayLinks"] ?? 0
                slotByPID.removeValue(forKey: oldPID)
                retiring[oldPID] = specification.name
                slots[index].pid = nil
                slots[index].backoff = makeBackoff()
                try await spawn(index)
                await waitUntilLinked(index, links: max(linksBefore, 1))
                await terminate([oldPID], grace: grace)
                replaced += 1
            } else {
                slots.append(Slot(specification: specification, backoff: makeBackoff()))
                try await spawn(slots.count - 1)
                await waitUntilReady(slots.count - 1)
                logger.notice("reload added \(specification.name) (\(number + 1) of \(workers.count))")
            }
        }
        let names = Set(workers.map(\.name))
        let surplus = slots.indices.filter { slots[$0].specification.role == .worker && !names.contains(slots[$0].specification.name) }
        for index in surplus.reversed() {
            if let pid = slots[index].pid {
                slotByPID.removeValue(forKey: pid)
                retiring[pid] = slots[index].specification.name
                await terminate([pid], grace: grace)
            }
            slots[index].restartTask?.cancel()
            slots.remove(at: index)
            slotByPID = slotByPID.mapValues { $0 > index ? $0 - 1 : $0 }
        }
        let summary = "reloaded: \(replaced) worker(s) replaced one at a time, \(workers.count) running; gateways untouched"
        logger.notice("\(summary)")
        return summary
    }

    /// Waits (bounded) until the new worker in slot `index` has `links` gateway links.
    private func waitUntilLinked(_ index: Int, links: Int) async {
        let deadline = ContinuousClock.now + .seconds(30)
        let pid = slots[index].pid
        while ContinuousClock.now < deadline, slots[index].pid == pid, pid != nil {
            if let statistics = await Self.statistics(of: slots[index].metricsAddress, group: group),
               statistics.counters["gatewayLinks", default: 0] >= links
            {
                return
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        logger.warning("\(slots[index].specification.name) is not linked to \(links) gateway(s) yet; replacing the old one anyway")
    }

    // MARK: Status

    /// Live status: every slot, its process's memory from /proc and its counters from `/statistics`.
    public func status() async -> StatusReport {
        let snapshot = slots
        let group = self.group
        let statistics = await withTaskGroup(of: (Int, ProcessStatistics?).self) { tasks in
            for (index, slot) in snapshot.enumerated() {
                tasks.addTask { (index, await Self.statistics(of: slot.metricsAddress, group: group)) }
            }
            var answers: [Int: ProcessStatistics] = [:]
            for await (index, answer) in tasks { answers[index] = answer }
            return answers
        }
        let now = Date()
        let processes = snapshot.enumerated().map { index, slot in
            let state: String
            if slot.pid != nil {
                state = "running"
            } else if let restartAt = slot.restartAt {
                state = "restarting in \(max(0, Int(restartAt.timeIntervalSince(now).rounded(.up)))) s"
            } else {
                state = "stopped"
            }
            return StatusReport.Process(
                name: slot.specification.name, role: slot.specification.role.rawValue, pid: slot.pid, state: state,
                startedAt: slot.pid == nil ? nil : slot.startedAt, memoryBytes: slot.pid.flatMap(ProcessInformation.residentBytes),
                listening: slot.specification.listening, metricsAddress: slot.metricsAddress?.description, restarts: slot.restarts,
                statistics: statistics[index]
            )
        }
        var byRole: [String: Int] = [:]
        for process in processes where process.pid != nil { byRole[process.role, default: 0] += 1 }
        return StatusReport(
            version: version, masterPID: getpid(), startedAt: startedAt, loadAverage: ProcessInformation.loadAverage(),
            processesByRole: byRole, exitsByRole: exitsByRole, processes: processes
        )
    }

    /// Every child's counters, labelled with its name and role, for the supervisor's `/metrics`.
    public func childStatistics() async -> [(name: String, statistics: ProcessStatistics)] {
        let snapshot = slots
        let group = self.group
        return await withTaskGroup(of: (String, ProcessStatistics?).self) { tasks in
            for slot in snapshot { tasks.addTask { (slot.specification.name, await Self.statistics(of: slot.metricsAddress, group: group)) } }
            var answers: [(name: String, statistics: ProcessStatistics)] = []
            for await (name, answer) in tasks { if let answer { answers.append((name, answer)) } }
            return answers.sorted { $0.name < $1.name }
        }
    }

    /// The live client connections of every gateway of this machine.
    public func connections() async -> [ConnectionInfo] {
        let gateways = slots.filter { $0.specification.role == .gateway }
        let group = self.group
        var all: [ConnectionInfo] = []
        for gateway in gateways {
            guard let address = gateway.metricsAddress,
                  let body = try? await HTTPFetch.get(address, path: "/connections", group: group),
                  let connections = try? JSONDecoder().decode([ConnectionInfo].self, from: Data(body.utf8))
            else { continue }
            all += connections
        }
        return all
    }

    private static func statistics(of address: HostPort?, group: any EventLoopGroup) async -> ProcessStatistics? {
        guard let address, let body = try? await HTTPFetch.get(address, path: "/statistics", timeout: .seconds(2), group: group) else { return nil }
        return try? JSONDecoder().decode(ProcessStatistics.self, from: Data(body.utf8))
    }
}
