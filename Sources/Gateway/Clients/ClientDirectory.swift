import NIOConcurrencyHelpers
import NIOCore
import Wire

/// Every client connection of this gateway process, by connection number, across all event loops.
final class ClientDirectory: Sendable {
    private let table = NIOLockedValueBox(Table())

    private struct Table {
        var connections: [UInt32: ClientConnection] = [:]
        var numbers = ConnectionNumberAllocator()
    }

    /// Gives `channel` a free connection number and lists it.
    func admit(_ channel: Channel) -> ClientConnection {
        table.withLockedValue { table in
            var numbers = table.numbers
            let number = numbers.next { table.connections[$0] != nil }
            table.numbers = numbers
            let connection = ClientConnection(number: number, channel: channel)
            table.connections[number] = connection
            return connection
        }
    }

    func remove(_ number: UInt32) {
        _ = table.withLockedValue { $0.connections.removeValue(forKey: number) }
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
