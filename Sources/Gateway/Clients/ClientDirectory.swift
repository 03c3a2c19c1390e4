import NIOConcurrencyHelpers
import NIOCore
import Wire

/// Every client of this gateway process, across all event loops: its connection, uid, groups and
/// session, with indexes by uid and group. One lock guards it all; each operation holds it briefly.
///
/// Admitting a connection also counts it and puts it under its loop's heartbeat, if there is one,
/// whatever protocol the client speaks.
final class ClientDirectory: Sendable {
    let table: NIOLockedValueBox<Table>
    /// Which event loop each connection number belongs to.
    let lanes: EventLoopLanes
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
        if let connection = removed?.connection { heartbeats?[connection.eventLoop].forget(connection) }
    }

    func connection(_ number: UInt32) -> ClientConnection? {
        table.withLockedValue { $0.records[number]?.connection }
    }

    var count: Int {
        table.withLockedValue { $0.records.count }
    }

    /// The session a client's next event carries.
    func sessionStamp(_ number: UInt32) -> SessionStamp {
        table.withLockedValue { $0.records[number]?.sessionStamp ?? .none }
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
