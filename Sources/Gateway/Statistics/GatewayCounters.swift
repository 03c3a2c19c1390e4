import Atomics
import NIOCore
import NIOWebSocket

/// The counters of one gateway process, one shard per event loop: the hot path bumps an atomic of
/// its own loop's shard, which no other core writes, and a snapshot sums the shards from any thread.
final class GatewayCounters: Sendable {
    /// What is counted.
    enum Counter: Int, CaseIterable {
        /// Clients admitted since start.
        case clientsAdmitted
        /// Messages received from clients.
        case messagesIn
        /// Messages written to clients (heartbeat pings included).
        case messagesOut
        /// Messages for a client already closing, not written.
        case sendFailures
        /// Messages dropped because the client's send buffer was full.
        case sendBufferDrops
        /// Clients closed because their send buffer was full.
        case sendBufferCloses
        /// Clients disconnected for heartbeat silence.
        case heartbeatTimeouts
        /// Client events handed back by a worker link that ended, to go to another worker.
        case redeliveredEvents
        /// Links on the internal port refused before proving the key (wrong key, malformed or
        /// oversized handshake, deadline, too many waiting).
        case linksRefused
        /// Client events dropped because no link can carry them or their delivery broke too many
        /// links (their clients closed with 1011).
        case poisonEvents
        /// Channel events not relayed to a worker that leaves its link's write buffer unread.
        case channelEventsDropped
        /// Bytes of client traffic read (WebSocket frames after TLS, text-port lines with their ends).
        case bytesIn
        /// Bytes of client traffic written (WebSocket frames before TLS, text-port lines with their ends).
        case bytesOut
        /// A level, not a total: client events held at the gateway until a worker link takes them
        /// (no worker linked, the worker behind or leaving, events handed back). Raised and lowered
        /// on the client's loop; only the sum over the shards means anything.
        case eventsWaitingForWorker
        /// Client events handed to a worker link on another event loop than the client's: none once
        /// every worker is linked to every loop (a worker from before lanes links to loop 0 only).
        case crossLoopEvents
        /// Commands carried out for clients of another event loop than their link's: a command about
        /// one client, or each other loop's part of a send to many without ``GatewayFrame/Flags/laneOnly``.
        case crossLoopCommands
    }

    /// One event loop's counters.
    final class Shard: Sendable {
        private let values = Counter.allCases.map { _ in ManagedAtomic<Int>(0) }
        private let closesSent = CloseCodeBucket.allCases.map { _ in ManagedAtomic<Int>(0) }
        private let closesReceived = CloseCodeBucket.allCases.map { _ in ManagedAtomic<Int>(0) }

        /// Adds `amount` to `counter`.
        func add(_ counter: Counter, _ amount: Int = 1) {
            values[counter.rawValue].wrappingIncrement(by: amount, ordering: .relaxed)
        }

        /// Counts a close the gateway started with `code`.
        func addClose(sent code: WebSocketErrorCode) {
            closesSent[CloseCodeBucket(code).rawValue].wrappingIncrement(ordering: .relaxed)
        }

        /// Counts a client's close frame with `code` (nil: it had none, 1005), or 1006 for a client
        /// gone without one.
        func addClose(received code: UInt16?) {
            closesReceived[CloseCodeBucket(code: code ?? 1005).rawValue].wrappingIncrement(ordering: .relaxed)
        }

        fileprivate func value(_ counter: Counter) -> Int {
            values[counter.rawValue].load(ordering: .relaxed)
        }

        fileprivate func closes(sent: Bool, _ bucket: CloseCodeBucket) -> Int {
            (sent ? closesSent : closesReceived)[bucket.rawValue].load(ordering: .relaxed)
        }
    }

    private let shards: PerEventLoop<Shard>
    private let registryErrors = ManagedAtomic<Int>(0)

    init(group: EventLoopGroup) {
        shards = PerEventLoop(group) { _ in Shard() }
    }

    /// The shard of `loop`, which must be one of the gateway's loops.
    func shard(for loop: EventLoop) -> Shard {
        shards[loop]
    }

    /// Counts a failed registry operation (registration or refresh in memcached).
    func addRegistryError() {
        registryErrors.wrappingIncrement(ordering: .relaxed)
    }

    /// The sum of `counter` over every loop.
    func total(_ counter: Counter) -> Int {
        shards.all.reduce(0) { $0 + $1.value(counter) }
    }

    /// Closes sent (or received) so far by code label, codes never seen left out.
    func closesByCode(sent: Bool) -> [String: Int] {
        var counts: [String: Int] = [:]
        for bucket in CloseCodeBucket.allCases {
            let count = shards.all.reduce(0) { $0 + $1.closes(sent: sent, bucket) }
            if count > 0 { counts[bucket.label] = count }
        }
        return counts
    }

    /// Failed registry operations so far.
    var registryErrorCount: Int {
        registryErrors.load(ordering: .relaxed)
    }
}
