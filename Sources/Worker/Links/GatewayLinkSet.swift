import NIOConcurrencyHelpers
import Wire

/// This worker's links, one per gateway it knows of.
final class GatewayLinkSet: Sendable {
    private let links = NIOLockedValueBox<[GatewayAddress: GatewayLink]>([:])

    /// Queues `frame` on the link to the gateway at `address`.
    func send(_ frame: GatewayFrame, to address: GatewayAddress) throws {
        guard let link = links.withLockedValue({ $0[address] }) else {
            throw ClusterAPIError.gatewayNotLinked(address)
        }
        try link.send(frame)
    }

    /// Queues `frame` on every established link.
    func sendToEveryGateway(_ frame: GatewayFrame) throws {
        let linked = links.withLockedValue { Array($0.values) }.filter(\.isLinked)
        guard !linked.isEmpty else { throw ClusterAPIError.noGatewayLinked }
        for link in linked { try? link.send(frame) }
    }

    /// Starts a link to each newly listed gateway and stops the links to gateways that are no longer
    /// listed and not linked (a live link to an unlisted gateway stays until it breaks).
    func reconcile(withLive live: [GatewayAddress], makeLink: (GatewayAddress) -> GatewayLink) -> (added: [GatewayAddress], removed: [GatewayAddress]) {
        let listed = Set(live)
        let (started, stopped) = links.withLockedValue { links in
            var started: [GatewayLink] = []
            for address in listed where links[address] == nil {
                let link = makeLink(address)
                links[address] = link
                started.append(link)
            }
            let gone = links.values.filter { !listed.contains($0.address) && !$0.isLinked }
            for link in gone { links[link.address] = nil }
            return (started, gone)
        }
        for link in started { link.start() }
        for link in stopped { link.stop() }
        return (started.map(\.address), stopped.map(\.address))
    }

    /// The gateways currently linked.
    var linkedAddresses: [GatewayAddress] {
        links.withLockedValue { Array($0.values) }.filter(\.isLinked).map(\.address).sorted()
    }

    /// Stops re-linking everywhere and tells each linked gateway that this worker is leaving;
    /// returns the sessions still open, each of which ends after the gateway's last event.
    func leaveAll() -> [GatewaySession] {
        let sessions = links.withLockedValue { Array($0.values) }.compactMap { $0.leave() }
        for session in sessions { session.send(GatewayFrame(command: .workerLeaving)) }
        return sessions
    }
}
