import NIOConcurrencyHelpers
import NIOCore
import Wire

/// Every client of this gateway process, across all event loops: its connection, uid, groups and
/// session, with indexes by uid and group. One lock guards it all; each operation holds it briefly.
/// The message path takes no lock: on a client's own loop its connection is found in that loop's
/// ``LoopClients``, and its session stamp is kept on the connection.
///
/// Admitting a connection also counts it and puts it under its loop's heartbeat, if there is one,
/// whatever protocol the client speaks.
final class ClientDirectory: Sendable {
    let table: NIOLockedValueBox<Table>
    /// Which event loop each connection number belongs to.
    let lanes: EventLoopLanes
    /// Each loop's own clients, by lane.
    private let loopClients: [LoopClients]
    private let counters: GatewayCounters
    private let heartbeats: PerEventLoop<ClientHeartbeat>?
    private let flushQueues: PerEventLoop<ClientFlushQueue>
    private let onSendBufferFull: SendBufferFullPolicy

    /// What the gateway knows of one client.
    struct Record {
        let connection: ClientConnection
        var uid: String?
        var groups: Set<String> = []
        var session: [String: JSONValue] = [:]
        var sessionStamp = SessionStamp.none
    }

    struct Table {
        var records: [UInt32: Record] = [:]
        var numbersByUID: [String: Set<UInt32>] = [:]
        var numbersByGroup: [String: Set<UInt32>] = [:]
        /// One allocator per lane, so a number tells its client's event loop.
        var numbers: [ConnectionNumberAllocator]
    }

    init(
        lanes: EventLoopLanes,
        counters: GatewayCounters,
        heartbeats: PerEventLoop<ClientHeartbeat>?,
        flushQueues: PerEventLoop<ClientFlushQueue>,
        onSendBufferFull: SendBufferFullPolicy
    ) {
        self.lanes = lanes
        self.loopClients = lanes.loops.map { LoopClients(eventLoop: $0) }
        self.table = NIOLockedValueBox(Table(numbers: (0..<lanes.connectionLanes.count).map { ConnectionNumberAllocator(lane: $0, of: lanes.connectionLanes) }))
        self.counters = counters
        self.heartbeats = heartbeats
        self.flushQueues = flushQueues
        self.onSendBufferFull = onSendBufferFull
    }

    /// Gives `channel` a free connection number and lists it. Call on the channel's event loop.
    func admit(_ channel: Channel) -> ClientConnection {
        let shard = counters.shard(for: channel.eventLoop)
        let flushQueue = flushQueues[channel.eventLoop]
        let lane = lanes.lane(of: channel.eventLoop)
        let connection = table.withLockedValue { table in
            var numbers = table.numbers[lane]
            let number = numbers.next { table.records[$0] != nil }
            table.numbers[lane] = numbers
            let connection = ClientConnection(
                number: number,
                channel: channel,
                counters: shard,
                flushQueue: flushQueue,
                onSendBufferFull: onSendBufferFull
            )
            table.records[number] = Record(connection: connection)
            return connection
        }
        loopClients[lane].add(connection)
        shard.add(.clientsAdmitted)
        heartbeats?[channel.eventLoop].watch(connection)
        return connection
    }

    /// Forgets a client, its uid binding and its group memberships. Call on its event loop.
    func remove(_ number: UInt32) {
        let removed = table.withLockedValue { table -> Record? in
            guard let record = table.records.removeValue(forKey: number) else { return nil }
            if let uid = record.uid { table.numbersByUID.remove(number, from: uid) }
            for group in record.groups { table.numbersByGroup.remove(number, from: group) }
            return record
        }
        guard let connection = removed?.connection else { return }
        loopClients[lanes.lane(ofConnection: number)].remove(number)
        heartbeats?[connection.eventLoop].forget(connection)
    }

    /// A client's connection; without a lock when called on the client's own loop.
    func connection(_ number: UInt32) -> ClientConnection? {
        let own = loopClients[lanes.lane(ofConnection: number)]
        if own.eventLoop.inEventLoop { return own.connection(number) }
        return table.withLockedValue { $0.records[number]?.connection }
    }

    var count: Int {
        table.withLockedValue { $0.records.count }
    }

    /// The connections that `select` picks from the table, grouped by event loop so that a send to
    /// all of them costs one task per loop.
    func connectionsByEventLoop(_ select: (Table) -> [ClientConnection]) -> [(EventLoop, [ClientConnection])] {
        let chosen = table.withLockedValue { select($0) }
        var groups: [ObjectIdentifier: (EventLoop, [ClientConnection])] = [:]
        for connection in chosen {
            groups[ObjectIdentifier(connection.eventLoop), default: (connection.eventLoop, [])].1.append(connection)
        }
        return Array(groups.values)
    }
}

extension Dictionary where Value == Set<UInt32> {
    /// Removes `number` from the set under `key`, dropping the key when its set empties.
    mutating func remove(_ number: UInt32, from key: Key) {
        self[key]?.remove(number)
        if self[key]?.isEmpty == true { self[key] = nil }
    }
}
