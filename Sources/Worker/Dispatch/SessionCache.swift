import Wire

/// The sessions this worker wrote and their gateways may not have applied yet.
///
/// A client's events can be forwarded before the gateway has applied the session its previous
/// event's handler wrote; such an event carries an older session version than the one written, and
/// the written session is used instead. An event carrying a newer version (someone else changed the
/// session since) wins. Only the worker's event order touches it.
struct SessionCache {
    private var written: [ClientID: (version: UInt64, values: [String: JSONValue])] = [:]

    /// The session to present for an event of `client` stamped with `stamp`.
    mutating func session(for client: ClientID, stamp: SessionStamp) throws -> (version: UInt64, values: [String: JSONValue]) {
        if let cached = written[client], cached.version >= stamp.version {
            return cached
        }
        written[client] = nil
        guard stamp.json.readableBytes > 0 else { return (stamp.version, [:]) }
        return (stamp.version, try stamp.json.decodeJSON(as: [String: JSONValue].self))
    }

    /// Records a session written after an event that presented version `basedOn`.
    mutating func wrote(_ values: [String: JSONValue], for client: ClientID, basedOn version: UInt64) {
        written[client] = (version + 1, values)
    }

    mutating func forget(_ client: ClientID) {
        written[client] = nil
    }

    /// Drops the sessions of every client of `gateway`, gone for good: no close of theirs will come.
    /// - Returns: how many were dropped.
    mutating func forgetClients(of gateway: GatewayAddress) -> Int {
        let before = written.count
        written = written.filter { $0.key.gateway != gateway }
        return before - written.count
    }
}
