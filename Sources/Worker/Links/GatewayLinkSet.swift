import Cluster
import NIOConcurrencyHelpers
import NIOCore
import Wire

/// This worker's links, one per gateway it knows of (each with its lane links, one per further event
/// loop of the gateway); the cluster API's transport.
///
/// Which link a frame takes keeps each client's messages in the order the handler sent them, across
/// sends to it alone and sends to many: a command or query about one client goes on the link of the
/// client's event loop (``ConnectionLanes``), the one its events come on; a send to many (all, uids,
/// groups) goes as one ``GatewayFrame/Flags/laneOnly`` copy on every lane link, each reaching the
/// clients of its own loop; anything else (group-wide queries and changes) goes on the link of the
/// loop of the client whose event is being handled, after that client's own commands, or, outside a
/// client's event, on the link to the registered port. While a lane link is down, what it would
/// carry goes on the registered port's link, where the gateway carries it to the right loop itself.
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
        try await send(frame, to: gateway, following: nil)
    }

    func query(_ frame: GatewayFrame, to gateway: GatewayAddress, timeout: TimeAmount) async throws -> ByteBuffer {
        try await query(frame, to: gateway, following: nil, timeout: timeout)
    }

    func send(_ frame: GatewayFrame, to gateway: GatewayAddress, following client: ClientID?) async throws {
        let link = try self.link(gateway)
        if Self.sendsToMany(frame.command), let lanes = link.sessionOnEveryLane() {
            var copy = frame
            copy.flags.insert(.laneOnly)
            for session in lanes { try session.send(copy) }
            return
        }
        try session(for: frame, following: client, on: link).send(frame)
    }

    func query(_ frame: GatewayFrame, to gateway: GatewayAddress, following client: ClientID?, timeout: TimeAmount) async throws -> ByteBuffer {
        try await session(for: frame, following: client, on: try link(gateway)).query(frame, timeout: timeout)
    }

    private func link(_ gateway: GatewayAddress) throws -> GatewayLink {
        guard let link = links.withLockedValue({ $0[gateway] }) else {
            throw ClusterAPIError.gatewayNotLinked(gateway)
        }
        return link
    }

    /// The lane of the client `frame` is about, else that of `client` when it is one of this
    /// gateway's, else the registered port's link.
    private func session(for frame: GatewayFrame, following client: ClientID?, on link: GatewayLink) throws -> GatewaySession {
        if frame.connectionID != 0 { return try link.session(forConnection: frame.connectionID) }
        if let client, client.gateway == link.address { return try link.session(forConnection: client.connectionNumber) }
        return try link.session()
    }

    private static func sendsToMany(_ command: GatewayCommand) -> Bool {
        command == .sendToAll || command == .sendToUID || command == .sendToGroup
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
        let sessions = links.withLockedValue { Array($0.values) }.flatMap { $0.leave() }
        // An empty frame always fits.
        for session in sessions { try? session.send(GatewayFrame(command: .workerLeaving)) }
        return sessions
    }
}
