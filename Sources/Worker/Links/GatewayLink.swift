import Cluster
import ClusterLogging
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Wire

/// This worker's link to one gateway: connects, proves the key, passes frames on, and re-links with
/// exponential backoff whenever the link breaks, until stopped.
///
/// A gateway with several event loops answers the handshake with each loop's own internal port
/// (``HandshakeResult/lanePorts``): the link to the registered port (lane 0) then keeps one lane link
/// per other loop, so each client's events come, and the commands about it go, on the link of the
/// client's own loop (see ``ConnectionLanes``).
final class GatewayLink: Sendable {
    /// Where the link is in its life.
    enum State: Sendable {
        case connecting
        case linked(GatewaySession)
        case backingOff
        /// Stopped re-linking; the session stays usable until the gateway's last event is handled.
        case leaving(GatewaySession)
        case stopped
    }

    /// Where this link connects: the registered address for lane 0, a loop's own port for the others.
    let address: GatewayAddress
    /// The gateway as registered: the address of its lane 0.
    let gateway: GatewayAddress
    /// The gateway event loop this link must land on.
    let lane: Int
    private let configuration: WorkerConfiguration
    private let connector: GatewayConnector
    private let logger: Logger
    private let onFrame: @Sendable (GatewayFrame, GatewaySession) -> Void
    private let state = NIOLockedValueBox(State.connecting)
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)
    /// Lane 0 only: the links to the gateway's other loops, by lane - 1, and how its connection
    /// numbers are striped over the loops.
    private let lanes = NIOLockedValueBox(Lanes())

    private struct Lanes {
        var links: [GatewayLink] = []
        var connectionLanes = ConnectionLanes(count: 1)
    }

    /// The gateway's answer does not fit the lane this link was made for: its ports have changed (it
    /// restarted), or another process listens there now. Nothing may be sent on such a link.
    struct WrongLane: Error, CustomStringConvertible {
        let description: String
    }

    init(
        address: GatewayAddress,
        gateway: GatewayAddress? = nil,
        lane: Int = 0,
        configuration: WorkerConfiguration,
        connector: GatewayConnector,
        logger: Logger,
        onFrame: @escaping @Sendable (GatewayFrame, GatewaySession) -> Void
    ) {
        self.address = address
        self.gateway = gateway ?? address
        self.lane = lane
        self.configuration = configuration
        self.connector = connector
        var logger = logger
        logger[metadataKey: "gateway"] = "\(gateway ?? address)"
        if lane > 0 { logger[metadataKey: "lane"] = "\(lane)" }
        self.logger = logger
        self.onFrame = onFrame
    }

    /// True while frames can be sent: linked, or leaving with the session still open.
    var isLinked: Bool {
        switch state.withLockedValue({ $0 }) {
        case .linked, .leaving: return true
        default: return false
        }
    }

    func start() {
        task.withLockedValue { $0 = Task { await self.keepLinked() } }
    }

    /// Stops re-linking and closes the link and its lane links.
    func stop() {
        for session in leave() { session.channel.close(promise: nil) }
    }

    /// Stops re-linking, here and on the lane links; returns the sessions open now, which stay open
    /// for sending.
    func leave() -> [GatewaySession] {
        // Left first: lane links made after this read see it and stop themselves (keepLaneLinks).
        let session = leaveLane()
        let lanes = self.lanes.withLockedValue { $0.links }
        return [session].compactMap { $0 } + lanes.compactMap { $0.leaveLane() }
    }

    private func leaveLane() -> GatewaySession? {
        let session = state.withLockedValue { state -> GatewaySession? in
            guard case .linked(let session) = state else {
                state = .stopped
                return nil
            }
            state = .leaving(session)
            return session
        }
        task.withLockedValue { $0?.cancel() }
        return session
    }

    /// The session for commands about connection `number`: its loop's lane link when that one is
    /// open, else this one.
    func session(forConnection number: UInt32) throws -> GatewaySession {
        let (lane, links) = lanes.withLockedValue { ($0.connectionLanes.lane(of: number), $0.links) }
        if lane > 0, lane <= links.count, let session = try? links[lane - 1].session() { return session }
        return try session()
    }

    /// One open session per gateway event loop, this one first, when every lane is linked; nil when
    /// the gateway has one loop or a lane link is down.
    func sessionOnEveryLane() -> [GatewaySession]? {
        let links = lanes.withLockedValue { $0.links }
        guard !links.isEmpty, let first = try? session() else { return nil }
        var sessions = [first]
        for link in links {
            guard let session = try? link.session() else { return nil }
            sessions.append(session)
        }
        return sessions
    }

    /// The open session, linked or leaving.
    func session() throws -> GatewaySession {
        switch state.withLockedValue({ $0 }) {
        case .linked(let session), .leaving(let session):
            return session
        default:
            throw ClusterAPIError.gatewayNotLinked(address)
        }
    }

    private func keepLinked() async {
        var backoff = configuration.reconnectBackoff.first
        while !Task.isCancelled {
            do {
                let channel = try await link()
                backoff = configuration.reconnectBackoff.first
                try? await channel.closeFuture.get()
                logger.warning("link to gateway lost")
            } catch let error as GatewayConnector.Refused {
                logger.error("gateway refused the link: \(error.reason.escapedForLog)")
                backoff = configuration.reconnectBackoff.longest
            } catch {
                logger.warning("cannot link to gateway: \(error)")
            }
            guard transition(to: .backingOff) else { return }
            try? await Task.sleep(nanoseconds: UInt64(backoff.nanoseconds))
            backoff = min(.nanoseconds(backoff.nanoseconds * 2), configuration.reconnectBackoff.longest)
            guard transition(to: .connecting) else { return }
        }
    }

    /// Connects and authenticates; returns the linked channel.
    private func link() async throws -> Channel {
        let wrongLane = NIOLockedValueBox<WrongLane?>(nil)
        let session = try await connector.connect(
            to: address,
            onEstablished: { session, answer in
                if let problem = self.laneProblem(in: answer) {
                    wrongLane.withLockedValue { $0 = problem }
                    session.channel.close(promise: nil)
                } else if !self.transition(to: .linked(session)) {
                    session.channel.close(promise: nil)
                } else if self.lane == 0 {
                    self.keepLaneLinks(ports: answer.lanePorts ?? [])
                }
            },
            onFrame: onFrame
        )
        if let problem = wrongLane.withLockedValue({ $0 }) { throw problem }
        guard case .linked(let linked) = state.withLockedValue({ $0 }), linked === session else {
            session.channel.close(promise: nil)
            throw CancellationError()
        }
        if lane == 0 {
            logger.notice("linked to gateway \(address)")
        } else {
            logger.notice("linked to gateway \(gateway) on its event loop \(lane) at port \(address.port)")
        }
        return session.channel
    }

    /// Why the gateway's answer rules this link out, if it does: a lane link must land on the loop
    /// it was made for, of the gateway it was made for.
    private func laneProblem(in answer: HandshakeResult) -> WrongLane? {
        guard lane > 0 else { return nil }
        guard answer.lane == lane, answer.lanePorts?.first == gateway.port else {
            return WrongLane(description: "port \(address.port) is no longer event loop \(lane) of gateway \(gateway)")
        }
        return nil
    }

    /// Makes (and starts) one lane link per event loop of the gateway beyond the first, unless the
    /// ones it has already go to those ports; stops lane links to ports the gateway no longer has.
    private func keepLaneLinks(ports: [UInt16]) {
        let wanted = ports.dropFirst().map { GatewayAddress(ip: address.ip, port: $0) }
        let (started, stopped) = lanes.withLockedValue { lanes -> ([GatewayLink], [GatewayLink]) in
            guard lanes.links.map(\.address) != Array(wanted) else { return ([], []) }
            let old = lanes.links
            lanes.links = wanted.enumerated().map { index, address in
                GatewayLink(
                    address: address,
                    gateway: self.address,
                    lane: index + 1,
                    configuration: configuration,
                    connector: connector,
                    logger: logger,
                    onFrame: onFrame
                )
            }
            lanes.connectionLanes = ConnectionLanes(count: max(1, ports.count))
            return (lanes.links, old)
        }
        for link in stopped { link.stop() }
        for link in started { link.start() }
        if !isRelinking {
            for link in started { link.stop() }
        }
    }

    /// False once stopped or leaving.
    private var isRelinking: Bool {
        switch state.withLockedValue({ $0 }) {
        case .stopped, .leaving: return false
        default: return true
        }
    }

    /// Moves to `next` unless stopped or leaving; false then.
    private func transition(to next: State) -> Bool {
        state.withLockedValue { state in
            switch state {
            case .stopped, .leaving: return false
            default:
                state = next
                return true
            }
        }
    }
}
