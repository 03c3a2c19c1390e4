import NIOCore
import Wire

/// Everything a gateway process needs to run; every field has a default so `init()` works.
public struct GatewayConfiguration: Sendable {
    /// Where clients connect with WebSocket.
    public var publicHost = "0.0.0.0"
    public var publicPort = 8282
    /// Share the public port with other gateway processes (SO_REUSEPORT).
    public var reusePort = false

    /// The internal text port for services that can only write lines; nil (the default) means none.
    /// Bind it to an internal address: it has no authentication.
    public var textPort: TextPortConfiguration?

    /// The internal address advertised to workers and encoded in client ids.
    public var lanIP = "127.0.0.1"
    /// The internal port workers link to (GatewayWorker's `startPort` + process index).
    public var lanPort = 2900
    /// Where the internal listener binds; nil binds `lanIP` (differs behind NAT or in containers).
    public var lanBindHost: String?

    /// The key every worker link must prove; empty means no key.
    public var secretKey = ""

    /// Event loop threads; one per core by default.
    public var eventLoopCount = System.coreCount

    /// The largest WebSocket message (after reassembly of fragments) a client may send.
    public var maxMessageSize = 1 << 20
    /// The largest gateway <-> worker frame.
    public var maxLinkFrameSize = GatewayFrameDecoder.defaultMaximumFrameLength
    /// A client that has not finished its HTTP upgrade by then is closed.
    public var handshakeTimeout = TimeAmount.seconds(10)
    /// A worker link that has not proved the key by then is closed.
    public var linkHelloTimeout = TimeAmount.seconds(10)
    /// Events a client may have waiting while no worker takes them; past that it is closed with 1013.
    public var maxWaitingEvents = 1024

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
}

/// A ``GatewayConfiguration`` that cannot work.
public enum GatewayConfigurationError: Error, CustomStringConvertible {
    case invalidLanIP(String)
    case invalidLanPort(Int)

    public var description: String {
        switch self {
        case .invalidLanIP(let ip):
            return "lan IP '\(ip)' is not an IPv4 address (client ids encode it, so it must be one)"
        case .invalidLanPort(let port):
            return "lan port \(port) is not a port number between 1 and 65535"
        }
    }
}
