import NIOCore
import Wire

/// Client sessions: the gateway owns each client's session, a JSON object, and stamps it on every
/// event of that client with a version that grows with each change.
extension ClientDirectory {
    /// Why a session change was refused.
    enum SessionError: Error, CustomStringConvertible {
        case notAnObject
        case tooLarge(bytes: Int, maximum: Int)

        var description: String {
            switch self {
            case .notAnObject: return "a session must be a JSON object"
            case .tooLarge(let bytes, let maximum): return "session of \(bytes) bytes is above the maximum of \(maximum)"
            }
        }
    }

    /// The largest session, encoded: sessions ride on every event of their client.
    static let maximumSessionSize = 64 * 1024

    /// A client's session; nil when the client is not connected here.
    func session(_ number: UInt32) -> [String: JSONValue]? {
        table.withLockedValue { $0.records[number]?.session }
    }

    /// Replaces a client's session with `session` (an object).
    func setSession(_ number: UInt32, to session: JSONValue) throws {
        guard let members = session.objectValue else { throw SessionError.notAnObject }
        try store(members, for: number)
    }

    /// Merges `changes` (an object) into a client's session, recursively.
    func updateSession(_ number: UInt32, with changes: JSONValue) throws {
        guard changes.objectValue != nil else { throw SessionError.notAnObject }
        guard let current = session(number) else { return }
        // Read and write are two critical sections: a concurrent change in between is overwritten,
        // as with any last-writer-wins store; changes to one client come from its one worker anyway.
        try store(JSONValue.object(current).merging(changes).objectValue ?? [:], for: number)
    }

    private func store(_ members: [String: JSONValue], for number: UInt32) throws {
        let json = try ByteBuffer(json: JSONValue.object(members))
        guard json.readableBytes <= Self.maximumSessionSize else {
            throw SessionError.tooLarge(bytes: json.readableBytes, maximum: Self.maximumSessionSize)
        }
        let stored = table.withLockedValue { table -> (ClientConnection, SessionStamp)? in
            guard let record = table.records[number] else { return nil }
            let stamp = SessionStamp(version: record.sessionStamp.version + 1, json: members.isEmpty ? ByteBuffer() : json)
            table.records[number]?.session = members
            table.records[number]?.sessionStamp = stamp
            return (record.connection, stamp)
        }
        // At once when the command came on the client's own loop, as it does from a worker linked to every loop.
        if let (connection, stamp) = stored { connection.onLoop { connection.adopt(stamp) } }
    }
}
