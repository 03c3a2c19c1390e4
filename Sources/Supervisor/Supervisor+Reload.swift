import Foundation
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

extension Supervisor {
    /// Replaces the workers one at a time with `configuration`'s: each new worker is linked to as
    /// many gateways as the one it replaces before that one gets SIGTERM (it finishes the event in
    /// hand, and the gateways re-send what it had not acknowledged). Gateways keep running.
    public func reload(with configuration: SupervisorConfiguration) async throws -> String {
        guard !isStopping else { throw SupervisorError.controlFailed(reason: "the cluster is stopping") }
        guard !isReloading else { throw SupervisorError.controlFailed(reason: "a reload is already under way") }
        isReloading = true
        defer { isReloading = false }
        self.configuration = configuration
        let plan = ClusterPlan(configuration: configuration, executable: executable)
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
}
