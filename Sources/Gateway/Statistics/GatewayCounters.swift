import Atomics
import NIOCore

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
    }

    /// One event loop's counters.
    final class Shard: Sendable {
        private let values = Counter.allCases.map { _ in ManagedAtomic<Int>(0) }

        /// Adds `amount` to `counter`.
        func add(_ counter: Counter, _ amount: Int = 1) {
            values[counter.rawValue].wrappingIncrement(by: amount, ordering: .relaxed)
        }

        fileprivate func value(_ counter: Counter) -> Int {
            values[counter.rawValue].load(ordering: .relaxed)
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

    /// Failed registry operations so far.
    var registryErrorCount: Int {
        registryErrors.load(ordering: .relaxed)
    }
}
