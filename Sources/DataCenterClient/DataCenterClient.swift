import DataCenterProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// A client of the DataCenter gateways (the host agent, `datacentered jobs`): keeps one authenticated
/// WebSocket open to one of its gateways for ever. When the connection fails or closes it moves to the
/// next gateway in the list after a full-jitter backoff; it pings when idle and drops a connection
/// that has been silent too long; a message it cannot read is logged and skipped.
public final class DataCenterClient: Sendable {
    /// Timing of the connection.
    public struct Configuration: Sendable {
        /// A ping is sent at this interval.
        public var pingInterval: Duration = .seconds(15)
        /// A connection that has received nothing (not even a pong) for this long is closed.
        public var silenceTimeout: Duration = .seconds(45)
        public var backoffInitial: Duration = .milliseconds(500)
        public var backoffMaximum: Duration = .seconds(30)
        /// How long a request waits for its reply.
        public var requestTimeout: Duration = .seconds(30)

        public init() {}
    }

    private let endpoints: [GatewayEndpoint]
    private let connector: WebSocketConnector
    private let configuration: Configuration
    private let logger: Logger

    /// - Parameter endpoints: the gateways, tried in turn starting at a random one (so a fleet spreads).
    public init(endpoints: [GatewayEndpoint], connector: WebSocketConnector, configuration: Configuration, logger: Logger) {
        precondition(!endpoints.isEmpty, "a client needs at least one gateway")
        self.endpoints = endpoints
        self.connector = connector
        self.configuration = configuration
        self.logger = logger
    }

    /// Connects, serves with `handler`, and reconnects, until the task is cancelled.
    public func run(_ handler: some DataCenterSessionHandler) async {
        var backoff = ReconnectBackoff(initial: configuration.backoffInitial, maximum: configuration.backoffMaximum)
        var index = Int.random(in: 0..<endpoints.count)
        while !Task.isCancelled {
            let endpoint = endpoints[index % endpoints.count]
            index += 1
            do {
                let channel = try await connector.connect(to: endpoint)
                let authenticated = try await serve(channel, endpoint: endpoint, handler: handler)
                if authenticated { backoff.reset() }
            } catch where Task.isCancelled {
                break
            } catch let error as ProtocolError {
                logger.error("gateway \(endpoint) refused the connection: \(error)")
            } catch {
                logger.warning("cannot connect to gateway \(endpoint): \(error)")
            }
            let delay = backoff.nextDelay()
            logger.info("next connection attempt in \(delay.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
            try? await Task.sleep(for: delay)
        }
    }

    /// Authenticates and serves one connection until it closes; true when authentication succeeded.
    private func serve(_ channel: WebSocketChannel, endpoint: GatewayEndpoint, handler: some DataCenterSessionHandler) async throws -> Bool {
        let authenticated = NIOLockedValueBox(false)
        try await channel.executeThenClose { inbound, outbound in
            let session = DataCenterSession(
                endpoint: endpoint, outbound: outbound, channel: channel.channel, requestTimeout: configuration.requestTimeout
            )
            try await withThrowingDiscardingTaskGroup { group in
                defer {
                    // Before the group waits for its tasks: a request waiting for a reply (in a task of
                    // the group or of the caller's) fails now, not at its request timeout.
                    session.markClosed()
                    group.cancelAll()
                }
                group.addTask { await self.keepAlive(session) }
                group.addTask {
                    let reply: InboundMessage
                    do {
                        let (operation, data) = try await handler.authentication()
                        reply = try await session.request(operation, data)
                    } catch {
                        session.close()
                        await handler.authenticationFailed(error)
                        throw error
                    }
                    authenticated.withLockedValue { $0 = true }
                    self.logger.notice("connected to gateway \(endpoint)")
                    await handler.sessionOpened(session, authenticated: reply)
                }
                for try await frame in inbound {
                    session.noteReceived()
                    switch frame.opcode {
                    case .text:
                        dispatch(String(buffer: frame.unmaskedData), session: session, handler: handler, group: &group)
                    case .ping:
                        try? await session.writeFrame(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData))
                    case .connectionClose:
                        var data = frame.unmaskedData
                        let code = data.readWebSocketErrorCode().map { "\($0)" } ?? "none"
                        logger.notice("gateway \(endpoint) closed the connection (code \(code))")
                        try? await session.writeFrame(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: ByteBuffer()))
                        return
                    case .binary:
                        logger.warning("gateway \(endpoint) sent a binary message; the envelope is text: ignored")
                    default:
                        break
                    }
                }
                logger.notice("connection to gateway \(endpoint) ended")
            }
        }
        return authenticated.withLockedValue { $0 }
    }

    /// Routes one text message: a reply to its waiting request, a request or an event to the handler.
    private func dispatch(
        _ text: String, session: DataCenterSession, handler: some DataCenterSessionHandler, group: inout ThrowingDiscardingTaskGroup<any Error>
    ) {
        switch InboundMessage.decode(text) {
        case .failure(let failure):
            logger.warning("gateway \(session.endpoint) sent a message that is not an envelope (\(failure.error)): ignored")
        case .success(let message):
            switch message.kind {
            case .reply(let re?, _):
                if !session.deliver(reply: message, to: re) {
                    logger.debug("reply to request \(re), which no longer waits: ignored")
                }
            case .reply(nil, let error):
                logger.warning("gateway \(session.endpoint) could not read a message of ours: \(error.map { "\($0)" } ?? "no error given")")
            case .request(let id, let operation):
                group.addTask {
                    do throws(ProtocolError) {
                        let data = try await handler.handleRequest(message, operation: operation, session: session)
                        try? await session.reply(to: id, data)
                    } catch {
                        try? await session.reply(to: id, error: error)
                    }
                }
            case .event(let name):
                group.addTask { await handler.handleEvent(message, name: name, session: session) }
            }
        }
    }

    /// Pings at the ping interval and closes the connection once nothing has come for the silence timeout.
    private func keepAlive(_ session: DataCenterSession) async {
        let tick = min(configuration.pingInterval, configuration.silenceTimeout / 3)
        var sincePing = Duration.zero
        while !Task.isCancelled {
            // Cancelled when the connection ends: that is a normal end, not an error of the session.
            guard (try? await Task.sleep(for: tick)) != nil else { return }
            let silent = ContinuousClock.now - session.lastReceived
            if silent > configuration.silenceTimeout {
                logger.warning("gateway \(session.endpoint) silent for \(silent): closing the connection")
                session.close()
                return
            }
            sincePing += tick
            if sincePing >= configuration.pingInterval {
                sincePing = .zero
                try? await session.writeFrame(WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: ByteBuffer()))
            }
        }
    }
}
