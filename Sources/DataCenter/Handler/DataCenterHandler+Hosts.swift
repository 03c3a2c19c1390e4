import DataCenterProtocol
import Foundation
import Registry
import Worker

extension DataCenterHandler {
    /// An agent's `report.*` event: one plain write of its section of the host's state, and the
    /// section to the operators when it changed. A report that this worker knows to differ from the
    /// last one it stored is written without reading; any other is first compared with memcached's.
    func handleReport(_ name: String, message: InboundMessage, host: String, context: EventContext) async throws {
        let report: HostReport?
        do {
            report = try HostReport(event: name, of: message)
        } catch {
            // Events are never answered; the agent's next report replaces this one.
            logger.warning("unreadable report", metadata: ["host": "\(host)", "event": "\(name)", "error": "\(error)"])
            return
        }
        guard let report else {
            logger.debug("unknown event from an agent", metadata: ["host": "\(host)", "event": "\(name)"])
            return
        }
        let encoded = try report.encoded()
        let store = HostStore(data: context.worker.globalData)
        var changed = true
        if reportFingerprints.matches(encoded, report.section, of: host) != false {
            changed = try await store.report(report.section, of: host).map { !$0.elementsEqual(encoded) } ?? true
        }
        let now = Timestamp.now.description
        try await store.setReport(encoded, report.section, of: host, at: now)
        reportFingerprints.record(encoded, report.section, of: host)
        guard changed else { return }
        let event = Envelope.event(.hostChanged, json: report.changeJSON(host: host, at: now, encoded: encoded))
        await push(.hostChanged, text: event, to: [ConnectionRole.operatorsGroup], api: context.api)
    }

    /// Marks offline those of `hosts` that no connection is bound to any more (the agent closed, its
    /// gateway's heartbeat gave up on it, or its gateway died) and tells the operators.
    func markOfflineIfGone(_ hosts: [String], worker: WorkerContext) async throws {
        guard !hosts.isEmpty else { return }
        let uids = hosts.map(ConnectionRole.agentUID)
        let connected = try await worker.api.getClientIDs(forUIDs: uids)
        let store = HostStore(data: worker.globalData)
        var wentOffline: [String] = []
        for host in hosts where connected[ConnectionRole.agentUID(host)]?.isEmpty ?? true {
            if try await store.setOnline(false, of: host) { wentOffline.append(host) }
        }
        guard !wentOffline.isEmpty else { return }
        // An agent that connected again meanwhile may have been marked online before the write above:
        // bound now, it is online (its authentication binds before it marks).
        let rebound = try await worker.api.getClientIDs(forUIDs: wentOffline.map(ConnectionRole.agentUID))
        for host in wentOffline {
            if !(rebound[ConnectionRole.agentUID(host)]?.isEmpty ?? true) {
                _ = try await store.setOnline(true, of: host)
                continue
            }
            logger.info("host offline", metadata: ["host": "\(host)"])
            try await failRelayed(of: host, reason: "host '\(host)' went offline before it answered", worker: worker)
            await push(.hostOffline, HostPresence(host: host, at: .now), to: [ConnectionRole.operatorsGroup], api: worker.api)
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
