import ClusterLogging

/// A snapshot of one gateway process's counters, for the status command and the periodic log line.
public struct GatewayStatistics: Sendable, Equatable, StatisticsLine {
    /// Clients connected now.
    public var clients = 0
    /// Clients admitted since the process started.
    public var clientsTotal = 0
    /// Messages received from clients.
    public var messagesIn = 0
    /// Messages written to clients, heartbeat pings included.
    public var messagesOut = 0
    /// Messages not written because their client was already closing.
    public var sendFailures = 0
    /// Messages dropped because their client's send buffer was full.
    public var sendBufferDrops = 0
    /// Clients closed because their send buffer was full.
    public var sendBufferCloses = 0
    /// Clients disconnected because they were silent too long (heartbeat).
    public var heartbeatTimeouts = 0
    /// Client events handed back by ended worker links and sent to another worker.
    public var redeliveredEvents = 0
    /// Links on the internal port refused before proving the key.
    public var linksRefused = 0
    /// Client events dropped as poison (their clients closed with 1011).
    public var poisonEvents = 0
    /// Channel events not relayed to workers that did not read their link.
    public var channelEventsDropped = 0
    /// Workers linked now (each by one link per event loop once it has linked to every loop; counted once).
    public var workerLinks = 0
    /// Failed registrations or refreshes in memcached.
    public var registryErrors = 0
    /// Bytes read from and written to clients (WebSocket frames inside TLS, text-port lines).
    public var bytesIn = 0
    public var bytesOut = 0
    /// Client events held now until a worker link takes them (none linked, the worker behind or leaving).
    public var eventsWaitingForWorker = 0
    /// Client events held now by worker links, written or about to be, until the worker acknowledges them.
    public var eventsUnacknowledged = 0
    /// Client events sent to a worker on a link of another event loop than the client's, and commands
    /// carried out for clients of another loop than their link's: 0 while every worker is linked to
    /// every loop, when no message crosses threads.
    public var crossLoopEvents = 0
    public var crossLoopCommands = 0
    /// Closes the gateway started, by code (`"1000"`, ..., `"other"`).
    public var closesSentByCode: [String: Int] = [:]
    /// Closes by the code of the client's close frame; `"1005"` for a frame without one, `"1006"` for
    /// a client gone without a close frame (protocol failures excepted: they count as sent).
    public var closesReceivedByCode: [String: Int] = [:]

    /// Every counter zero.
    public init() {}
}
