import DataCenterClient
import DataCenterProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Sends the host's reports on their timers to the connected session (a report produced while
/// disconnected is dropped: the next one replaces it). The VPS inventory goes out in full on every
/// new connection and afterwards only when it changed.
public actor HostReporter {
    private var collector: HostReportCollector
    private let inventory: InventoryCollector
    private var periods: AgentConfiguration.ReportPeriods
    private let logger: Logger
    private var session: DataCenterSession?
    private var servers: [VirtualServer]?
    private var lastSentInventory: VPSReport?
    /// Set by a new connection: the next inventory read is sent whether it changed or not.
    private var inventoryOwed = false
    private var loops: [Task<Void, Never>] = []

    public init(configuration: AgentConfiguration, logger: Logger) {
        self.collector = HostReportCollector(
            paths: configuration.system, bandwidthStateFile: configuration.stateDirectory + "/bandwidth.json"
        )
        self.inventory = InventoryCollector(commands: configuration.inventory, logger: logger)
        self.periods = configuration.reports
        self.logger = logger
    }

    /// Starts the report timers; the first round runs at once (the baselines of the rates, the
    /// inventory that per-VPS bandwidth needs) unless `waitFirst`.
    public func start(waitFirst: Bool = false) {
        stop()
        loops = [
            loop(every: periods.hostInfoSeconds, waitFirst: waitFirst) { await $0.sendHostInfo() },
            loop(every: periods.cpuSeconds, waitFirst: waitFirst) { await $0.sendCPU() },
            loop(every: periods.bandwidthSeconds, waitFirst: waitFirst) { await $0.sendBandwidth() },
            loop(every: periods.inventorySeconds, waitFirst: waitFirst) { await $0.refreshInventory() },
        ]
    }

    /// Stops the report timers.
    public func stop() {
        for loop in loops { loop.cancel() }
        loops = []
    }

    /// A new authenticated connection: adopt the periods the central side asked for, send the full
    /// inventory and a host-info at once, then report to this session.
    public func attach(_ session: DataCenterSession, periods requested: ReportPeriods) async {
        self.session = session
        inventoryOwed = true
        await refreshInventory()
        await sendHostInfo()
        let adopted = Self.adopt(requested, over: periods)
        if adopted != periods {
            periods = adopted
            start(waitFirst: true)
        }
    }

    /// The connection is gone.
    public func detach(_ session: DataCenterSession) {
        if self.session === session { self.session = nil }
    }

    /// The inventory's servers as last read (for per-VPS bandwidth).
    var knownServers: [VirtualServer] { servers ?? [] }

    func sendHostInfo() async {
        do {
            try await send(.reportHostInfo, collector.hostInfo())
        } catch {
            logger.warning("host-info report not collected: \(error)")
        }
    }

    func sendCPU() async {
        do {
            if let report = try collector.cpu() { await send(.reportCPU, report) }
        } catch {
            logger.warning("cpu report not collected: \(error)")
        }
    }

    func sendBandwidth() async {
        do {
            if let report = try collector.bandwidth(servers: knownServers) { await send(.reportBandwidth, report) }
        } catch {
            logger.warning("bandwidth report not collected: \(error)")
        }
    }

    /// Reads the inventory and sends it when it changed since it was last sent, or when a new
    /// connection is owed it. What counts as sent is decided before the send is awaited, so two reads
    /// that overlap never both send it.
    func refreshInventory() async {
        let current = await inventory.collect()
        servers = current
        let report = VPSReport(
            vps: current.map { VPSEntry(name: $0.name, state: $0.state, technology: $0.technology, ips: $0.ips) },
            ipMap: Dictionary(current.flatMap { server in server.ips.map { ($0, server.name) } }, uniquingKeysWith: { first, _ in first })
        )
        guard session != nil, inventoryOwed || report != lastSentInventory else {
            logger.debug("inventory read: \(current.count) VPS, unchanged")
            return
        }
        let previous = (lastSentInventory, inventoryOwed)
        (lastSentInventory, inventoryOwed) = (report, false)
        if await send(.reportVPS, report) {
            logger.debug("inventory sent: \(current.count) VPS")
        } else {
            (lastSentInventory, inventoryOwed) = previous
        }
    }

    @discardableResult
    private func send(_ name: EventName, _ report: some Encodable & Sendable) async -> Bool {
        guard let session else { return false }
        do {
            try await session.send(event: name, report)
            return true
        } catch {
            logger.debug("\(name.rawValue) not sent: \(error)")
            return false
        }
    }

    private func loop(every seconds: Double, waitFirst: Bool, _ body: @escaping @Sendable (HostReporter) async -> Void) -> Task<Void, Never> {
        let period = Duration.milliseconds(Int64(max(seconds, 0.1) * 1000))
        return Task { [weak self] in
            if waitFirst { try? await Task.sleep(for: period) }
            while !Task.isCancelled, let reporter = self {
                await body(reporter)
                try? await Task.sleep(for: period)
            }
        }
    }

    private static func adopt(_ requested: ReportPeriods, over own: AgentConfiguration.ReportPeriods) -> AgentConfiguration.ReportPeriods {
        var periods = own
        if let value = requested.hostInfo, value > 0 { periods.hostInfoSeconds = value }
        if let value = requested.cpu, value > 0 { periods.cpuSeconds = value }
        if let value = requested.bandwidth, value > 0 { periods.bandwidthSeconds = value }
        if let value = requested.vps, value > 0 { periods.inventorySeconds = value }
        return periods
    }
}
