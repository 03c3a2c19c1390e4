import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Wire

/// Opens an authenticated link to a gateway: connects, proves the key by challenge–response (a
/// worker's or a gateway client's hello) and checks the gateway's proof. Used by workers and by
/// gateway clients alike.
package struct GatewayConnector: Sendable {
    package let group: EventLoopGroup
    package let key: LinkKey
    /// The worker's `name:id`; nil links as a gateway client.
    package let workerKey: String?
    /// Bounds the connect and, separately, the wait for the handshake answer.
    package let timeout: TimeAmount
    package let maxFrameSize: Int
    package let keepalive: LinkKeepalive.Policy
    /// TLS to gateways whose internal port speaks it (their certificate verified); nil is plain TCP.
    package let tls: NIOSSLContext?
    package let logger: Logger

    /// A client TLS context that verifies gateways against the CA certificates in `trustRootsPath` (PEM).
    package static func tlsContext(trustRootsPath: String) throws -> NIOSSLContext {
        guard let roots = try? NIOSSLCertificate.fromPEMFile(trustRootsPath), !roots.isEmpty else {
            throw LinkTLSError.unreadableTrustRoots(path: trustRootsPath)
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(roots)
        configuration.certificateVerification = .fullVerification
        return try NIOSSLContext(configuration: configuration)
    }

    /// The gateway answered the hello with a refusal (a wrong key, say).
    package struct Refused: Error, CustomStringConvertible {
        package let gateway: GatewayAddress
        package let reason: String
        package var description: String { "gateway \(gateway) refused the link: \(reason)" }
    }

    package init(
        group: EventLoopGroup,
        key: LinkKey,
        workerKey: String?,
        timeout: TimeAmount,
        maxFrameSize: Int,
        keepalive: LinkKeepalive.Policy = .init(),
        tls: NIOSSLContext? = nil,
        logger: Logger
    ) {
        self.keepalive = keepalive
        self.tls = tls
        self.group = group
        self.key = key
        self.workerKey = workerKey
        self.timeout = timeout
        self.maxFrameSize = maxFrameSize
        self.logger = logger
    }

    /// Links to `gateway`. `onEstablished` runs on the link's event loop as soon as the gateway
    /// accepts, with its answer, before any later frame is handled: a gateway may send events right
    /// after its answer, and their handlers must find the link usable. Every frame that is not a query answer then goes
    /// to `onFrame`, in order.
    package func connect(
        to gateway: GatewayAddress,
        onEstablished: @escaping @Sendable (GatewaySession, HandshakeResult) -> Void = { _, _ in },
        onFrame: @escaping @Sendable (GatewayFrame, GatewaySession) -> Void
    ) async throws -> GatewaySession {
        let handshake = group.next().makePromise(of: HandshakeResult.self)
        let createdSession = NIOLockedValueBox<GatewaySession?>(nil)
        let (key, workerKey, timeout, maxFrameSize, keepalive, tls, logger) = (self.key, self.workerKey, self.timeout, self.maxFrameSize, self.keepalive, self.tls, self.logger)
        let connecting = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The session exists before any frame can arrive, so none is missed.
                    let encoder = GatewayFrameEncoder(maximumFrameLength: maxFrameSize)
                    let session = GatewaySession(address: gateway, channel: channel, maxFrameSize: maxFrameSize, frameEncoder: encoder)
                    createdSession.withLockedValue { $0 = session }
                    let sync = channel.pipeline.syncOperations
                    // The gateway is named by its IP address, which its certificate must carry.
                    if let tls { try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    let linkHandler = GatewayLinkHandler(
                        key: key,
                        workerKey: workerKey,
                        handshakeTimeout: timeout,
                        maxFrameSize: maxFrameSize,
                        keepalive: keepalive,
                        handshake: handshake,
                        logger: logger,
                        onAccepted: { result in
                            session.gatewayAccepted(result)
                            onEstablished(session, result)
                        },
                        onFrame: { frame in
                            if frame.command == .queryResult {
                                session.answerReceived(frame.body)
                            } else {
                                onFrame(frame, session)
                            }
                        }
                    )
                    try sync.addHandler(ByteToMessageHandler(GatewayFrameDecoder(maximumFrameLength: maxFrameSize, receiver: linkHandler)))
                    try sync.addHandler(encoder)
                    try sync.addHandler(linkHandler)
                }
            }
            .connect(host: gateway.host, port: Int(gateway.port))
        let channel: Channel
        do {
            channel = try await connecting.get()
        } catch {
            handshake.fail(error)
            throw error
        }
        let result = try await handshake.futureResult.get()
        guard result.accepted, let session = createdSession.withLockedValue({ $0 }) else {
            channel.close(promise: nil)
            throw Refused(gateway: gateway, reason: result.reason ?? "no reason given")
        }
        return session
    }
}
