import NIOCore
import Wire

/// One client of this gateway as `datacentered connections` lists it.
public struct GatewayClientSummary: Sendable, Equatable {
    public var clientID: String
    public var remoteAddress: String
    public var uid: String?
    public var groups: [String]
    /// Seconds since the client last sent anything.
    public var idleSeconds: Double
}

extension GatewayServer {
    /// Every client connected now. Each loop reads its own clients' last activity.
    public func clientSummaries() async -> [GatewayClientSummary] {
        guard let lanAddress = try? configuration.lanAddress() else { return [] }
        let records = directory.table.withLockedValue { table in table.records.map { (number: $0.key, record: $0.value) } }
        let byLoop = Dictionary(grouping: records) { ObjectIdentifier($0.record.connection.eventLoop) }
        var summaries: [GatewayClientSummary] = []
        for clients in byLoop.values {
            let connections = clients.map(\.record.connection)
            let loop = connections[0].eventLoop
            let idle = (try? await loop.submit { connections.map { Double((NIODeadline.now() - $0.lastHeard).nanoseconds) / 1e9 } }.get())
                ?? Array(repeating: 0, count: connections.count)
            for (index, client) in clients.enumerated() {
                let remote = client.record.connection.channel.remoteAddress
                summaries.append(
                    GatewayClientSummary(
                        clientID: ClientID(gateway: lanAddress, connectionNumber: client.number).description,
                        remoteAddress: remote.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?",
                        uid: client.record.uid,
                        groups: client.record.groups.sorted(),
                        idleSeconds: idle[index]
                    )
                )
            }
        }
        return summaries.sorted { $0.clientID < $1.clientID }
    }

    /// The event loops that carry the clients and worker links (for the event-loop lag metric).
    public var eventLoops: any EventLoopGroup { group }
}
