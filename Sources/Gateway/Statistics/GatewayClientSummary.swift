import Wire

/// One client of this gateway as `datacentered connections` lists it.
public struct GatewayClientSummary: Sendable, Equatable {
    public var clientID: String
    public var remoteAddress: String
    public var uid: String?
    public var groups: [String]
}

extension GatewayServer {
    /// Every client connected now.
    public func clientSummaries() -> [GatewayClientSummary] {
        guard let lanAddress = try? configuration.lanAddress() else { return [] }
        return directory.table.withLockedValue { table in
            table.records.map { number, record in
                let remote = record.connection.channel.remoteAddress
                return GatewayClientSummary(
                    clientID: ClientID(gateway: lanAddress, connectionNumber: number).description,
                    remoteAddress: remote.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?",
                    uid: record.uid,
                    groups: record.groups.sorted()
                )
            }
        }
    }
}
