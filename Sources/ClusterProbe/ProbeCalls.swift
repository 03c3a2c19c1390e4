import NIOCore
import Worker

/// Carries out one probe call with the cluster API and returns its result as JSON.
struct ProbeCalls {
    let context: EventContext
    let arguments: [String: JSONValue]
    /// Sleeps running in this worker process, for the `sleep` call's answer.
    let sleeps: SleepCount

    /// Bounds on what a client can make the probe do: a worker handles few events at a time, so a
    /// long sleep would stall other clients' events, and a huge repeat would take its memory.
    static let longestSleepMilliseconds = 2_000
    static let timerMilliseconds = 1...60_000
    static let largestRepeatedBytes = 32 << 20
    static let longestSequence = 100

    struct ProbeError: Error, CustomStringConvertible {
        let description: String
    }

    private var api: ClusterAPI { context.api }

    func perform(_ call: String) async throws -> JSONValue {
        switch call {
        case "whoami":
            return [
                "client": .string(context.clientID.description), "worker": .string(context.worker.workerKey),
                "session": .object(context.session.values), "redelivered": .bool(context.isRedelivered),
            ]
        case "sendToClient": try await api.sendToClient(try client(), try text())
        case "sendRawFrame":
            // A complete server-to-client WebSocket text frame, written as is: only a raw send delivers it as text.
            let payload = Array(try string("text").utf8)
            guard payload.count < 126 else { throw ProbeError(description: "sendRawFrame takes texts under 126 bytes") }
            var frame = ByteBuffer(bytes: [0x81, UInt8(payload.count)])
            frame.writeBytes(payload)
            try await api.sendToClient(try client(), .raw(frame))
        case "sendToAll": try await api.sendToAll(try text(), only: try clientsIfGiven("only"), excluding: try clientsIfGiven("exclude") ?? [])
        case "sendToUID": try await api.sendToUID(try strings("uids"), try text())
        case "sendToGroup": try await api.sendToGroup(try strings("groups"), try text(), excluding: try clientsIfGiven("exclude") ?? [])
        case "bindUID": try await api.bindUID(try client(), try string("uid"))
        case "unbindUID": try await api.unbindUID(try client(), try string("uid"))
        case "joinGroup": try await api.joinGroup(try client(), try string("group"))
        case "leaveGroup": try await api.leaveGroup(try client(), try string("group"))
        case "ungroup": try await api.ungroup(try string("group"))
        case "closeClient": try await api.closeClient(try client(), lastMessage: arguments["text"] == nil ? nil : try text())
        case "destroyClient": try await api.destroyClient(try client())
        case "setSession": try await api.setSession(try client(), try object("session"))
        case "updateSession": try await api.updateSession(try client(), try object("session"))
        case "getSession": return try await api.getSession(try client()).map(JSONValue.object) ?? .null
        case "setCurrentSession":
            context.session[try string("key")] = arguments["value"]
        case "isOnline": return .bool(try await api.isOnline(try client()))
        case "isUIDOnline": return .bool(try await api.isUIDOnline(try string("uid")))
        case "isUIDsOnline": return .object(try await api.isUIDsOnline(try strings("uids")).mapValues(JSONValue.bool))
        case "getClientIDByUID": return Self.ids(try await api.getClientIDs(forUID: try string("uid")))
        case "getClientIDsByUIDs": return .object(try await api.getClientIDs(forUIDs: try strings("uids")).mapValues(Self.ids))
        case "getUIDByClientID": return try await api.getUID(of: try client()).map(JSONValue.string) ?? .null
        case "getAllClientIDList": return Self.ids(try await api.getAllClientIDs())
        case "getAllClientCount": return .integer(try await api.getAllClientCount())
        case "getClientIDListByGroup": return Self.ids(try await api.getClientIDs(inGroup: try string("group")))
        case "getClientCountByGroup": return .integer(try await api.getClientCount(inGroup: try string("group")))
        case "getClientCountsByGroups": return .object(try await api.getClientCounts(inGroups: try strings("groups")).mapValues(JSONValue.integer))
        case "getClientSessionsByGroup": return Self.sessions(try await api.getClientSessions(inGroup: try string("group")))
        case "getAllClientSessions": return Self.sessions(try await api.getAllClientSessions())
        case "getUIDListByGroup": return Self.strings(try await api.getUIDs(inGroup: try string("group")))
        case "getUIDCountByGroup": return .integer(try await api.getUIDCount(inGroup: try string("group")))
        case "getAllUIDList": return Self.strings(try await api.getAllUIDs())
        case "getAllUIDCount": return .integer(try await api.getAllUIDCount())
        case "getAllGroupIDList": return Self.strings(try await api.getAllGroupIDs())
        case "getAllGroupUIDList": return .object(try await api.getAllGroupUIDs().mapValues(Self.strings))
        case "getAllGroupUIDCount": return .object(try await api.getAllGroupUIDCounts().mapValues(JSONValue.integer))
        case "getAllGroupClientIDList": return .object(try await api.getAllGroupClientIDs().mapValues(Self.ids))
        case "getAllGroupClientIDCount": return .object(try await api.getAllGroupClientIDCounts().mapValues(JSONValue.integer))
        case "sendRepeated":
            // Builds a message larger than the client could send, to exceed a link frame on purpose.
            let text = try string("text")
            let times = try integer("times")
            let (bytes, overflow) = text.utf8.count.multipliedReportingOverflow(by: times)
            guard times > 0, !overflow, bytes <= Self.largestRepeatedBytes else {
                throw ProbeError(description: "sendRepeated makes at most \(Self.largestRepeatedBytes) bytes")
            }
            try await api.sendToClient(try client(), .text(String(repeating: text, count: times)))
        case "timer":
            let client = context.clientID
            let text = try string("text")
            let after = try integer("afterMilliseconds")
            guard Self.timerMilliseconds.contains(after) else {
                throw ProbeError(description: "afterMilliseconds must be in \(Self.timerMilliseconds)")
            }
            context.worker.timers.add(after: .milliseconds(after)) { worker in
                try await worker.api.sendToClient(client, .text("\(text) from timer on \(worker.workerKey)"))
            }
        case "sequence":
            // Several calls in one handler run, in order: what a client sees of them shows the order kept.
            guard let calls = arguments["calls"]?.arrayValue, calls.count <= Self.longestSequence else {
                throw ProbeError(description: "sequence takes a list of at most \(Self.longestSequence) calls")
            }
            var results: [JSONValue] = []
            for call in calls {
                guard let name = call["call"]?.stringValue, name != "sequence" else {
                    throw ProbeError(description: "each call of a sequence names a call other than sequence")
                }
                results.append(try await ProbeCalls(context: context, arguments: call["args"]?.objectValue ?? [:], sleeps: sleeps).perform(name))
            }
            return .array(results)
        case "incrementGlobal":
            return .integer(Int(try await context.worker.globalData.increment(try string("key"), by: 1, initial: 1)))
        case "sleep":
            let milliseconds = try integer("milliseconds")
            guard (0...Self.longestSleepMilliseconds).contains(milliseconds) else {
                throw ProbeError(description: "milliseconds must be in 0...\(Self.longestSleepMilliseconds)")
            }
            // How many sleeps run at once shows how many events the worker runs at once.
            let running = sleeps.begin()
            defer { sleeps.end() }
            try await Task.sleep(for: .milliseconds(milliseconds))
            return .integer(running)
        case "publish":
            try await context.worker.channel.publish("probe", ["client": .string(try client().description), "text": .string(try string("text"))])
        default:
            throw ProbeError(description: "unknown call \(call)")
        }
        return .bool(true)
    }

    private func string(_ name: String) throws -> String {
        guard let value = arguments[name]?.stringValue else { throw ProbeError(description: "missing string argument \(name)") }
        return value
    }

    private func integer(_ name: String) throws -> Int {
        guard let value = arguments[name]?.intValue else { throw ProbeError(description: "missing integer argument \(name)") }
        return value
    }

    private func strings(_ name: String) throws -> [String] {
        guard let values = arguments[name]?.arrayValue?.compactMap(\.stringValue) else {
            throw ProbeError(description: "missing string list argument \(name)")
        }
        return values
    }

    private func object(_ name: String) throws -> [String: JSONValue] {
        guard let value = arguments[name]?.objectValue else { throw ProbeError(description: "missing object argument \(name)") }
        return value
    }

    private func text() throws -> OutgoingMessage {
        .text(try string("text"))
    }

    /// The `client` argument, or the current client when it is absent.
    private func client() throws -> ClientID {
        guard let text = arguments["client"]?.stringValue else { return context.clientID }
        return try ClientID.parse(text)
    }

    private func clientsIfGiven(_ name: String) throws -> [ClientID]? {
        guard arguments[name] != nil else { return nil }
        return try strings(name).map(ClientID.parse)
    }

    private static func ids(_ ids: [ClientID]) -> JSONValue {
        .array(ids.map { .string($0.description) })
    }

    private static func strings(_ values: [String]) -> JSONValue {
        .array(values.map(JSONValue.string))
    }

    private static func sessions(_ sessions: [ClientID: [String: JSONValue]]) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: sessions.map { ($0.key.description, JSONValue.object($0.value)) }))
    }
}
