import NIOCore
import Wire

/// Everything a gateway process needs to run; every field has a default so `init()` works.
public struct GatewayConfiguration: Sendable {
    /// Where clients connect with plain WebSocket (ws).
    public var publicHost = "0.0.0.0"
    public var publicPort = 8282
    /// Serve plain WebSocket on `publicHost:publicPort`; false when only wss is wanted.
    public var servesPlainWebSocket = true
    /// Where clients connect with WebSocket over TLS (wss), and its certificate; nil serves no wss.
    public var secureWebSocket: SecureWebSocketListener?
    /// Share the public port with other gateway processes (SO_REUSEPORT).
    public var reusePort = false

    /// Files served to plain HTTP GET / HEAD on the public ports (the dashboard); nil answers such
    /// requests with 426 (WebSocket only).
    public var staticSite: StaticSite?

    /// The internal text port for services that can only write lines; nil (the default) means none.
    /// Bind it to an internal address: it has no authentication.
    public var textPort: TextPortConfiguration?

    /// The internal address advertised to workers and encoded in client ids.
    public var lanIP = "127.0.0.1"
    /// The internal port workers link to (GatewayWorker's `startPort` + process index).
    public var lanPort = 2900
    /// Where the internal listener binds; nil binds `lanIP` (differs behind NAT or in containers).
    public var lanBindHost: String?
    /// TLS on the internal port, for links that cross networks the operator does not trust; nil (the
    /// default) is plain TCP. Linking peers then verify this certificate (its SAN must name `lanIP`).
    public var linkTLS: LinkTLSCertificate?

    /// The key every worker link must prove (never sent: see ``LinkKey``); at least 16 bytes.
    public var secretKey = ""

    /// How a client's events are routed to workers.
    public var routing = WorkerRouting.sticky

    /// Event loop threads; one per core by default.
    public var eventLoopCount = System.coreCount

    /// The largest WebSocket message (after reassembly of fragments) a client may send.
    public var maxMessageSize = 1 << 20
    /// The largest gateway <-> worker frame. A client message rides in one with the frame header and
    /// the client's session, so it must exceed ``maxMessageSize`` by ``linkFrameReserve`` at least.
    public var maxLinkFrameSize = GatewayFrameDecoder.defaultMaximumFrameLength
    /// Room in a link frame beyond the client's message: the 28-byte header and the session.
    public static let linkFrameReserve = 64 * 1024
    /// Bytes of client events a worker may hold unacknowledged; past that its clients' new events
    /// wait at the gateway until it catches up (GatewayWorker's `sendToWorkerBufferSize`, which drops them).
    public var maxWorkerBacklogBytes = 64 * 1024 * 1024
    /// Client connections accepted per second on each public listener at most (0: no cap); the rest
    /// wait in the kernel's backlog, so a fleet reconnecting at once is taken in at a steady pace.
    public var maxAcceptsPerSecond = 0
    /// A client that has not finished its HTTP upgrade by then is closed.
    public var handshakeTimeout = TimeAmount.seconds(10)
    /// A worker link that has not proved the key by then is closed.
    public var linkHelloTimeout = TimeAmount.seconds(10)
    /// Pings on each worker link, and how long a silent worker takes to be declared dead (its
    /// unacknowledged events then go to another worker).
    public var linkKeepalive = LinkKeepalive.Policy()
    /// Links that may wait to prove the key at once; more are refused at once and counted.
    public var maxUnauthenticatedLinks = 64
    /// Events a client may have waiting while no worker takes them; past that it is closed with 1013.
    public var maxWaitingEvents = 1024
    /// Bytes of events a client may have waiting while no worker takes them; past that it is closed with 1013.
    public var maxWaitingBytes = 8 << 20
    /// Worker links that may break (or workers die) while holding one client event before that event
    /// is dropped as poison and its client closed with 1011.
    public var maxEventDeliveryFailures = 3

    /// Bytes a client may have waiting to be sent (GatewayWorker's `sendToClientBufferSize`): while
    /// more wait, because the client does not read, ``onSendBufferFull`` says what happens to a new
    /// message. The channel becomes writable again once half of it has drained.
    public var clientSendBufferSize = 1_024_000
    /// What happens to a message for a client whose send buffer is full.
    public var onSendBufferFull = SendBufferFullPolicy.close
    /// A closing client that has not taken its close frame by then is disconnected.
    public var closeTimeout = TimeAmount.seconds(5)

    /// Application heartbeat, GatewayWorker's `pingInterval`: zero disables it.
    public var pingInterval = TimeAmount.zero
    /// GatewayWorker's `pingNotResponseLimit`: a client silent for `pingNotResponseLimit * pingInterval`
    /// is disconnected; zero never disconnects a silent client.
    public var pingNotResponseLimit = 0
    /// GatewayWorker's `pingData`: sent to every client every `pingInterval` as a text message;
    /// empty sends nothing and only polices the clients' own heartbeats.
    public var pingData = ""

    /// How often the gateway logs its counters; nil never does.
    public var statisticsInterval: TimeAmount?

    public init() {}

    /// The internal address as workers and client ids know it.
    public func lanAddress() throws -> GatewayAddress {
        guard let ip = GatewayAddress.parseIPv4(lanIP) else {
            throw GatewayConfigurationError.invalidLanIP(lanIP)
        }
        guard let port = UInt16(exactly: lanPort), port != 0 else {
            throw GatewayConfigurationError.invalidLanPort(lanPort)
        }
        return GatewayAddress(ip: ip, port: port)
    }

    /// Throws unless the configuration can run.
    public func validate() throws {
        _ = try LinkKey(secret: secretKey)
        _ = try lanAddress()
        guard servesPlainWebSocket || secureWebSocket != nil else {
            throw GatewayConfigurationError.noPublicListener
        }
        guard clientSendBufferSize > 0 else {
            throw GatewayConfigurationError.invalidClientSendBufferSize(clientSendBufferSize)
        }
        guard maxAcceptsPerSecond >= 0 else {
            throw GatewayConfigurationError.invalidAcceptRate(maxAcceptsPerSecond)
        }
        guard pingInterval >= .zero, pingNotResponseLimit >= 0 else {
            throw GatewayConfigurationError.invalidHeartbeat
        }
        let largestMessage = max(maxMessageSize, textPort?.maxLineLength ?? 0)
        guard largestMessage + Self.linkFrameReserve <= maxLinkFrameSize else {
            throw GatewayConfigurationError.messageLargerThanLinkFrame(message: largestMessage, linkFrame: maxLinkFrameSize)
        }
        guard maxEventDeliveryFailures > 0 else {
            throw GatewayConfigurationError.invalidDeliveryFailureLimit(maxEventDeliveryFailures)
        }
        guard maxUnauthenticatedLinks > 0 else {
            throw GatewayConfigurationError.invalidUnauthenticatedLinkLimit(maxUnauthenticatedLinks)
        }
    }
}

/// Where a gateway serves WebSocket over TLS and the certificate it shows.
public struct SecureWebSocketListener: Sendable {
    /// The address the wss listener binds.
    public var host: String
    /// The wss port; 0 lets the system choose.
    public var port: Int
    /// A PEM file with the server certificate first, then any intermediates.
    public var certificatePath: String
    /// A PEM file with the private key. Never logged.
    public var keyPath: String

    /// A wss listener on `host:port` showing the certificate chain in `certificatePath`.
    public init(host: String, port: Int, certificatePath: String, keyPath: String) {
        self.host = host
        self.port = port
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// The certificate and key a gateway shows on its internal port.
public struct LinkTLSCertificate: Sendable {
    /// A PEM file with the server certificate first, then any intermediates.
    public var certificatePath: String
    /// A PEM file with the private key. Never logged.
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// What happens to a message for a client whose send buffer is full.
public enum SendBufferFullPolicy: String, Sendable, CaseIterable {
    /// The message is dropped and counted (per client too); the client stays and silently misses it
    /// (GatewayWorker's behaviour).
    case drop
    /// The client is closed with 1013 ("try again later") and the reason "send buffer full", so that
    /// its application knows to reconnect and catch up. The default.
    case close
}

/// A ``GatewayConfiguration`` that cannot work.
public enum GatewayConfigurationError: Error, CustomStringConvertible {
    case invalidLanIP(String)
    case invalidLanPort(Int)
    case noPublicListener
    case invalidClientSendBufferSize(Int)
    case invalidHeartbeat
    case invalidUnauthenticatedLinkLimit(Int)
    case messageLargerThanLinkFrame(message: Int, linkFrame: Int)
    case invalidDeliveryFailureLimit(Int)
    case invalidAcceptRate(Int)

    public var description: String {
        switch self {
        case .invalidLanIP(let ip):
            return "lan IP '\(ip)' is not an IPv4 address (client ids encode it, so it must be one)"
        case .invalidLanPort(let port):
            return "lan port \(port) is not a port number between 1 and 65535"
        case .noPublicListener:
            return "no public listener: configure plain WebSocket, WebSocket over TLS, or both"
        case .invalidClientSendBufferSize(let size):
            return "client send buffer size \(size) must be at least 1 byte"
        case .invalidHeartbeat:
            return "ping interval and ping-not-response limit must not be negative"
        case .messageLargerThanLinkFrame(let message, let linkFrame):
            return "a client message of up to \(message) bytes (--max-message-size) does not fit in a worker link frame of \(linkFrame) bytes with the \(GatewayConfiguration.linkFrameReserve) bytes kept for the header and session: lower --max-message-size to \(linkFrame - GatewayConfiguration.linkFrameReserve) or raise --max-link-frame-size (gateways and workers alike) to \(message + GatewayConfiguration.linkFrameReserve)"
        case .invalidDeliveryFailureLimit(let limit):
            return "the delivery failures allowed per event (\(limit)) must be at least 1"
        case .invalidAcceptRate(let rate):
            return "max accepts per second must be 0 (no cap) or more (got \(rate))"
        case .invalidUnauthenticatedLinkLimit(let limit):
            return "the limit of links waiting to prove the key (\(limit)) must be at least 1"
        }
    }
}
