import NIOCore

/// One gateway <-> worker frame, in GatewayWorker's `GatewayProtocol` layout.
///
/// On the wire: a 28-byte big-endian header
/// `length u32 | command u8 | localIP u32 | localPort u16 | clientIP u32 | clientPort u16 |
/// connectionID u32 | flags u8 | gatewayPort u16 | extLength u32`, then `extData`, then `body`.
/// `length` counts the whole frame, header included.
public struct GatewayFrame: Sendable, Equatable {
    /// Size of the fixed header in bytes.
    public static let headerLength = 28

    /// Bits of the flag byte.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// GatewayWorker: the body is a plain scalar rather than PHP-serialized data.
        public static let scalarBody = Flags(rawValue: 0x01)
        /// GatewayWorker: send the body to the client as it is, without the client protocol's encoding.
        public static let raw = Flags(rawValue: 0x02)
        /// DataCentered: the body is a binary WebSocket message (text when unset).
        public static let binary = Flags(rawValue: 0x04)
        /// DataCentered: a client event sent before to a worker that went away before acknowledging it.
        public static let redelivered = Flags(rawValue: 0x08)
        /// DataCentered: a send to many clients (all, a uid, a group) carried out only for the clients
        /// of the event loop whose link it came on; a worker linked to every loop of a gateway sends
        /// one such copy on each link (see ``ConnectionLanes``).
        public static let laneOnly = Flags(rawValue: 0x10)
        /// DataCentered, on the wire only: 8 more bytes follow the body, an acknowledgement's count
        /// (see ``GatewayFrame/acknowledgement(handledEvents:handledBeyond:)``) that a worker sends
        /// with its last reply of a flush instead of an acknowledgement frame of its own, to gateways
        /// that offer it (``HandshakeResult/acknowledgementTrailers``). The decoder hands such a frame
        /// on without the flag and the 8 bytes, followed by the acknowledgement frame they stand for.
        public static let acknowledgementTrailer = Flags(rawValue: 0x20)
    }

    public var command: GatewayCommand
    /// The gateway's internal IPv4 address, host order.
    public var localIP: UInt32
    /// The gateway's internal port.
    public var localPort: UInt16
    /// The client's remote IPv4 address, host order (0 when not IPv4).
    public var clientIP: UInt32
    /// The client's remote port.
    public var clientPort: UInt16
    /// The gateway-local connection number of the client.
    public var connectionID: UInt32
    public var flags: Flags
    /// The gateway's public (client-facing) port.
    public var gatewayPort: UInt16
    /// Command-specific extra data: session, uid, group, or JSON arguments.
    public var extData: ByteBuffer
    /// The message or the command's main argument.
    public var body: ByteBuffer

    public init(
        command: GatewayCommand,
        localIP: UInt32 = 0,
        localPort: UInt16 = 0,
        clientIP: UInt32 = 0,
        clientPort: UInt16 = 0,
        connectionID: UInt32 = 0,
        flags: Flags = [],
        gatewayPort: UInt16 = 0,
        extData: ByteBuffer = ByteBuffer(),
        body: ByteBuffer = ByteBuffer()
    ) {
        self.command = command
        self.localIP = localIP
        self.localPort = localPort
        self.clientIP = clientIP
        self.clientPort = clientPort
        self.connectionID = connectionID
        self.flags = flags
        self.gatewayPort = gatewayPort
        self.extData = extData
        self.body = body
    }

    /// The frame's length on the wire, header included.
    public var encodedLength: Int {
        Self.headerLength + extData.readableBytes + body.readableBytes
    }

    /// The id of the client this frame is about, derived from its gateway address and connection number.
    public var clientID: ClientID {
        ClientID(gatewayIP: localIP, gatewayPort: localPort, connectionNumber: connectionID)
    }
}
