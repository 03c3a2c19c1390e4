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
    private var loops: [Task<Void, Never>] = []

    public init(configuration: AgentConfiguration, logger: Logger) {
        self.collector = HostReportCollector(
            paths: configuration.system, bandwidthStateFile: configuration.stateDirectory + "/bandwidth.json"
        )
        self.inventory = InventoryCollector(commands: configuration.inventory, logger: logger)
        self.periods = configuration.reports
        self.logger = logger
    }

    /// Starts the report timers.
    public func start() {
        stop()
        loops = [
            loop(every: periods.hostInfoSeconds) { await $0.sendHostInfo() },
            loop(every: periods.cpuSeconds) { await $0.sendCPU() },
            loop(every: periods.bandwidthSeconds) { await $0.sendBandwidth() },
            loop(every: periods.inventorySeconds) { await $0.refreshInventory(forceSend: false) },
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
        let adopted = Self.adopt(requested, over: periods)
        if adopted != periods {
            periods = adopted
            start()
        }
        lastSentInventory = nil
        await refreshInventory(forceSend: true)
        await sendHostInfo()
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

    /// Reads the inventory and sends it when it changed since it was last sent (or when `forceSend`).
    func refreshInventory(forceSend: Bool) async {
        let current = await inventory.collect()
        servers = current
        let report = VPSReport(
            vps: current.map { VPSEntry(name: $0.name, state: $0.state, technology: $0.technology, ips: $0.ips) },
            ipMap: Dictionary(current.flatMap { server in server.ips.map { ($0, server.name) } }, uniquingKeysWith: { first, _ in first })
        )
        guard forceSend || report != lastSentInventory, session != nil else { return }
        if await send(.reportVPS, report) { lastSentInventory = report }
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

    private func loop(every seconds: Double, _ body: @escaping @Sendable (HostReporter) async -> Void) -> Task<Void, Never> {
        Task { [weak self] in
            while !Task.isCancelled, let reporter = self {
                await body(reporter)
                try? await Task.sleep(for: .milliseconds(Int64(max(seconds, 0.1) * 1000)))
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
