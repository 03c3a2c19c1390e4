import Cluster
import NIOConcurrencyHelpers
import NIOCore
import Wire

/// This worker's links, one per gateway it knows of; the cluster API's transport.
final class GatewayLinkSet: GatewayTransport {
    /// Discovery rounds in a row a linked gateway may be missing from the registry before its link is
    /// dropped: enough for gateways to register again after memcached restarts empty.
    static let unlistedRoundsBeforeDrop = 3

    private let links = NIOLockedValueBox<[GatewayAddress: GatewayLink]>([:])
    private let unlistedRounds = NIOLockedValueBox<[GatewayAddress: Int]>([:])

    func gatewayAddresses() async throws -> [GatewayAddress] {
        linkedAddresses
    }

    func send(_ frame: GatewayFrame, to gateway: GatewayAddress) async throws {
        try session(gateway).send(frame)
    }

    func query(_ frame: GatewayFrame, to gateway: GatewayAddress, timeout: TimeAmount) async throws -> ByteBuffer {
        try await session(gateway).query(frame, timeout: timeout)
    }

    private func session(_ gateway: GatewayAddress) throws -> GatewaySession {
        guard let link = links.withLockedValue({ $0[gateway] }) else {
            throw ClusterAPIError.gatewayNotLinked(gateway)
        }
        return try link.session()
    }

    /// Starts a link to each newly listed gateway and stops the links to gateways that are no longer
    /// listed: at once when not linked; when linked, after ``unlistedRoundsBeforeDrop`` rounds, since
    /// a gateway whose registration expired has stopped refreshing it (gone, cut off, or frozen) and a
    /// link to it would hold its clients' events where no one answers.
    func reconcile(withLive live: [GatewayAddress], makeLink: (GatewayAddress) -> GatewayLink) -> (added: [GatewayAddress], removed: [GatewayAddress]) {
        let listed = Set(live)
        let (started, stopped) = links.withLockedValue { links in
            var started: [GatewayLink] = []
            for address in listed where links[address] == nil {
                let link = makeLink(address)
                links[address] = link
                started.append(link)
            }
            let gone = unlistedRounds.withLockedValue { rounds in
                rounds = rounds.filter { !listed.contains($0.key) && links[$0.key] != nil }
                return links.values.filter { link in
                    guard !listed.contains(link.address) else { return false }
                    guard link.isLinked else { return true }
                    rounds[link.address, default: 0] += 1
                    return rounds[link.address]! >= Self.unlistedRoundsBeforeDrop
                }
            }
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
        // An empty frame always fits.
        for session in sessions { try? session.send(GatewayFrame(command: .workerLeaving)) }
        return sessions
    }
}
