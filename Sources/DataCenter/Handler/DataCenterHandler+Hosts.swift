import DataCenterProtocol
import Foundation
import Registry
import Worker

extension DataCenterHandler {
    /// An agent's `report.*` event: one compare-and-swap write of its host's state, then only what
    /// changed goes to the operators.
    func handleReport(_ name: String, message: InboundMessage, host: String, context: EventContext) async throws {
        let change: (@Sendable (inout HostState) -> Void)?
        do {
            change = try ReportApplication.change(for: name, of: message, at: .now)
        } catch {
            // Events are never answered; the agent's next report replaces this one.
            logger.warning("unreadable report", metadata: ["host": "\(host)", "event": "\(name)", "error": "\(error)"])
            return
        }
        guard let change else {
            logger.debug("unknown event from an agent", metadata: ["host": "\(host)", "event": "\(name)"])
            return
        }
        let (before, after) = try await HostStore(data: context.worker.globalData).update(host, change)
        if !before.online {
            await push(.hostOnline, HostPresence(host: host, at: .now), to: [ConnectionRole.operatorsGroup], api: context.api)
        }
        if let changes = before.changes(to: after) {
            await push(.hostChanged, changes, to: [ConnectionRole.operatorsGroup], api: context.api)
        }
    }

    /// Marks offline those of `hosts` that no connection is bound to any more (the agent closed, its
    /// gateway's heartbeat gave up on it, or its gateway died) and tells the operators.
    func markOfflineIfGone(_ hosts: [String], worker: WorkerContext) async throws {
        guard !hosts.isEmpty else { return }
        let connected = try await worker.api.getClientIDs(forUIDs: hosts.map(ConnectionRole.agentUID))
        let store = HostStore(data: worker.globalData)
        for host in hosts where connected[ConnectionRole.agentUID(host)]?.isEmpty ?? true {
            let (before, after) = try await store.update(host) { $0.online = false }
            if before.online, !after.online {
                logger.info("host offline", metadata: ["host": "\(host)"])
                try await failRelayed(of: host, reason: "host '\(host)' went offline before it answered", worker: worker)
                await push(.hostOffline, HostPresence(host: host, at: .now), to: [ConnectionRole.operatorsGroup], api: worker.api)
            }
        }
    }

    func listHosts(_ request: Request) async throws -> HostsListReply {
        let states = try await request.hosts.states(of: try await request.hosts.hostNames())
        return HostsListReply(hosts: states.map(\.summary))
    }

    func showHost(_ request: Request) async throws -> HostsShowReply {
        let host = try request.payload(HostQuery.self).host
        guard let state = try await request.hosts.state(of: host) else { throw ProtocolError(.notFound, "no host '\(host)'") }
        return HostsShowReply(host: state)
    }

    func listActions(_ request: Request) async throws -> ActionsListReply {
        let host = try request.payload(HostQuery.self).host
        guard let actions = try await request.hosts.actions(of: host) else { throw ProtocolError(.notFound, "no host '\(host)'") }
        return ActionsListReply(actions: actions)
    }

    func clusterStats(_ request: Request) async throws -> ClusterStatsReply {
        let api = request.context.api
        let names = try await request.hosts.hostNames()
        let online = try await api.getClientIDs(forUIDs: names.map(ConnectionRole.agentUID)).values.filter { !$0.isEmpty }.count
        return ClusterStatsReply(
            gateways: try await gateways.liveGateways().count,
            workers: try await WorkerRoster(data: request.context.worker.globalData).liveWorkers(within: configuration.sweepInterval * 3).count,
            clients: try await api.getAllClientCount(),
            agentsOnline: online,
            hosts: names.count)
    }
}
