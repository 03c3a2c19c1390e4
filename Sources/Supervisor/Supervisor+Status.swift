import Foundation
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

extension Supervisor {
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
            version: version, isStarted: isStarted, masterPID: getpid(), startedAt: startedAt, loadAverage: ProcessInformation.loadAverage(),
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

    static func statistics(of address: HostPort?, group: any EventLoopGroup) async -> ProcessStatistics? {
        guard let address, let body = try? await HTTPFetch.get(address, path: "/statistics", timeout: .seconds(2), group: group) else { return nil }
        return try? JSONDecoder().decode(ProcessStatistics.self, from: Data(body.utf8))
    }
}
