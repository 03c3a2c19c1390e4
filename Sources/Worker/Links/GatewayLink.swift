import Cluster
import ClusterLogging
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Wire

/// This worker's link to one gateway: connects, proves the key, passes frames on, and re-links with
/// exponential backoff whenever the link breaks, until stopped.
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

    let address: GatewayAddress
    private let configuration: WorkerConfiguration
    private let connector: GatewayConnector
    private let logger: Logger
    private let onFrame: @Sendable (GatewayFrame, GatewaySession) -> Void
    private let state = NIOLockedValueBox(State.connecting)
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(
        address: GatewayAddress,
        configuration: WorkerConfiguration,
        connector: GatewayConnector,
        logger: Logger,
        onFrame: @escaping @Sendable (GatewayFrame, GatewaySession) -> Void
    ) {
        self.address = address
        self.configuration = configuration
        self.connector = connector
        var logger = logger
        logger[metadataKey: "gateway"] = "\(address)"
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

    /// Stops re-linking and closes the link.
    func stop() {
        leave()?.channel.close(promise: nil)
    }

    /// Stops re-linking; returns the current session, which stays open for sending.
    func leave() -> GatewaySession? {
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
        let session = try await connector.connect(
            to: address,
            onEstablished: { session in
                if !self.transition(to: .linked(session)) { session.channel.close(promise: nil) }
            },
            onFrame: onFrame
        )
        guard case .linked(let linked) = state.withLockedValue({ $0 }), linked === session else {
            session.channel.close(promise: nil)
            throw CancellationError()
        }
        logger.notice("linked to gateway \(address)")
        return session.channel
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
