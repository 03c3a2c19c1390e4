import Foundation
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

extension Supervisor {
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
    func terminate(_ pids: [pid_t], grace: Duration) async {
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
}
