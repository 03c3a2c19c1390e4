import NIOConcurrencyHelpers
import NIOCore
import Wire

/// Every client connection of this gateway process, by connection number, across all event loops.
///
/// Admitting a connection also counts it and puts it under its loop's heartbeat, if there is one,
/// whatever protocol the client speaks.
final class ClientDirectory: Sendable {
    private let table = NIOLockedValueBox(Table())
    private let counters: GatewayCounters
    private let heartbeats: PerEventLoop<ClientHeartbeat>?
    private let onSendBufferFull: SendBufferFullPolicy

    private struct Table {
        var connections: [UInt32: ClientConnection] = [:]
        var numbers = ConnectionNumberAllocator()
    }

    init(counters: GatewayCounters, heartbeats: PerEventLoop<ClientHeartbeat>?, onSendBufferFull: SendBufferFullPolicy) {
        self.counters = counters
        self.heartbeats = heartbeats
        self.onSendBufferFull = onSendBufferFull
    }

    /// Gives `channel` a free connection number and lists it. Call on the channel's event loop.
    func admit(_ channel: Channel) -> ClientConnection {
        let shard = counters.shard(for: channel.eventLoop)
        let connection = table.withLockedValue { table in
            var numbers = table.numbers
            let number = numbers.next { table.connections[$0] != nil }
            table.numbers = numbers
            let connection = ClientConnection(number: number, channel: channel, counters: shard, onSendBufferFull: onSendBufferFull)
            table.connections[number] = connection
            return connection
        }
        shard.add(.clientsAdmitted)
        heartbeats?[channel.eventLoop].watch(connection)
        return connection
    }

    /// Unlists a connection. Call on its event loop.
    func remove(_ number: UInt32) {
        guard let connection = table.withLockedValue({ $0.connections.removeValue(forKey: number) }) else { return }
        heartbeats?[connection.eventLoop].forget(connection)
    }

    func connection(_ number: UInt32) -> ClientConnection? {
        table.withLockedValue { $0.connections[number] }
    }

    var count: Int {
        table.withLockedValue { $0.connections.count }
    }

    /// Every connection, grouped by event loop so a broadcast costs one task per loop.
    func connectionsByEventLoop() -> [(EventLoop, [ClientConnection])] {
        let all = table.withLockedValue { Array($0.connections.values) }
        var groups: [ObjectIdentifier: (EventLoop, [ClientConnection])] = [:]
        for connection in all {
            groups[ObjectIdentifier(connection.eventLoop), default: (connection.eventLoop, [])].1.append(connection)
        }
        return Array(groups.values)
    }
}
