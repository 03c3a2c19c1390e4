import NIOCore
import Wire

/// Who is online, and where: answers merged from every gateway (or from the one a client id names).
/// Unlike GatewayWorker's, the group and uid listings are complete even when some clients have no
/// uid or no group.
extension ClusterAPI {
    public func isOnline(_ client: ClientID) async throws -> Bool {
        try await ask(Self.frame(.isOnline, about: client), gateway: client.gateway, as: Bool.self)
    }

    public func isUIDOnline(_ uid: String) async throws -> Bool {
        try await !getClientIDs(forUID: uid).isEmpty
    }

    public func isUIDsOnline(_ uids: [String]) async throws -> [String: Bool] {
        try await getClientIDs(forUIDs: uids).mapValues { !$0.isEmpty }
    }

    /// The clients bound to `uid`.
    public func getClientIDs(forUID uid: String) async throws -> [ClientID] {
        let frame = GatewayFrame(command: .getClientIDByUID, body: ByteBuffer(string: uid))
        return try await askEveryGateway(frame, as: [String].self, into: [ClientID]()) { merged, ids in
            merged += ids.compactMap(ClientID.init)
        }.sorted()
    }

    /// The clients bound to each of `uids` (an empty list for a uid with none).
    public func getClientIDs(forUIDs uids: [String]) async throws -> [String: [ClientID]] {
        let frame = GatewayFrame(command: .batchGetClientIDByUID, extData: try Self.arguments(uids))
        let empty = Dictionary(uniqueKeysWithValues: uids.map { ($0, [ClientID]()) })
        return try await askEveryGateway(frame, as: [String: [String]].self, into: empty) { merged, answer in
            for (uid, ids) in answer { merged[uid, default: []] += ids.compactMap(ClientID.init) }
        }.mapValues { $0.sorted() }
    }

    /// The uid bound to a client; nil when none is or the client is offline.
    public func getUID(of client: ClientID) async throws -> String? {
        try await select(on: client.gateway, CommandArguments.Select(clients: [client.connectionNumber]))[client]?.uid
    }

    public func getAllClientIDs() async throws -> [ClientID] {
        try await selectEverywhere(CommandArguments.Select()).keys.sorted()
    }

    public func getAllClientCount() async throws -> Int {
        try await getClientCount(inGroup: "")
    }

    public func getClientIDs(inGroup group: String) async throws -> [ClientID] {
        try await selectEverywhere(CommandArguments.Select(groups: [group])).keys.sorted()
    }

    /// Members of `group`; every client when `group` is empty.
    public func getClientCount(inGroup group: String) async throws -> Int {
        let frame = GatewayFrame(command: .getClientCountByGroup, body: ByteBuffer(string: group))
        return try await askEveryGateway(frame, as: Int.self, into: 0) { $0 += $1 }
    }

    public func getClientCounts(inGroups groups: [String]) async throws -> [String: Int] {
        let frame = GatewayFrame(command: .batchGetClientCountByGroup, extData: try Self.arguments(groups))
        let zeros = Dictionary(uniqueKeysWithValues: groups.map { ($0, 0) })
        return try await askEveryGateway(frame, as: [String: Int].self, into: zeros) { merged, counts in
            merged.merge(counts, uniquingKeysWith: +)
        }
    }

    public func getClientSessions(inGroup group: String) async throws -> [ClientID: [String: JSONValue]] {
        try await sessions(.getClientSessionsByGroup, group: group)
    }

    public func getAllClientSessions() async throws -> [ClientID: [String: JSONValue]] {
        try await sessions(.getAllClientSessions, group: "")
    }

    /// The distinct uids bound to members of `group`.
    public func getUIDs(inGroup group: String) async throws -> [String] {
        Self.uids(in: try await selectEverywhere(CommandArguments.Select(groups: [group])).values)
    }

    public func getUIDCount(inGroup group: String) async throws -> Int {
        try await getUIDs(inGroup: group).count
    }

    public func getAllUIDs() async throws -> [String] {
        Self.uids(in: try await selectEverywhere(CommandArguments.Select()).values)
    }

    public func getAllUIDCount() async throws -> Int {
        try await getAllUIDs().count
    }

    /// Every group with at least one member.
    public func getAllGroupIDs() async throws -> [String] {
        let frame = GatewayFrame(command: .getGroupIDList)
        return try await askEveryGateway(frame, as: [String].self, into: Set<String>()) { $0.formUnion($1) }.sorted()
    }

    /// For every group, the distinct uids of its members.
    public func getAllGroupUIDs() async throws -> [String: [String]] {
        try await byGroup { record in record.uid.map { [$0] } ?? [] }.mapValues { Array(Set($0)).sorted() }
    }

    public func getAllGroupUIDCounts() async throws -> [String: Int] {
        try await getAllGroupUIDs().mapValues(\.count)
    }

    /// For every group, its members.
    public func getAllGroupClientIDs() async throws -> [String: [ClientID]] {
        let records = try await selectEverywhere(CommandArguments.Select())
        var members: [String: [ClientID]] = [:]
        for (client, record) in records {
            for group in record.groups { members[group, default: []].append(client) }
        }
        return members.mapValues { $0.sorted() }
    }

    public func getAllGroupClientIDCounts() async throws -> [String: Int] {
        try await getAllGroupClientIDs().mapValues(\.count)
    }

    // MARK: - Building blocks

    private func select(on gateway: GatewayAddress, _ select: CommandArguments.Select) async throws -> [ClientID: CommandArguments.ClientRecord] {
        let frame = GatewayFrame(command: .select, extData: try Self.arguments(select))
        return Self.keyedByClientID(try await ask(frame, gateway: gateway, as: [String: CommandArguments.ClientRecord].self))
    }

    private func selectEverywhere(_ select: CommandArguments.Select) async throws -> [ClientID: CommandArguments.ClientRecord] {
        let frame = GatewayFrame(command: .select, extData: try Self.arguments(select))
        return try await askEveryGateway(frame, as: [String: CommandArguments.ClientRecord].self, into: [:]) { merged, answer in
            merged.merge(Self.keyedByClientID(answer)) { $1 }
        }
    }

    private func sessions(_ command: GatewayCommand, group: String) async throws -> [ClientID: [String: JSONValue]] {
        let frame = GatewayFrame(command: command, body: ByteBuffer(string: group))
        return try await askEveryGateway(frame, as: [String: [String: JSONValue]].self, into: [:]) { merged, answer in
            merged.merge(Self.keyedByClientID(answer)) { $1 }
        }
    }

    private func byGroup(_ values: @escaping @Sendable (CommandArguments.ClientRecord) -> [String]) async throws -> [String: [String]] {
        var grouped: [String: [String]] = [:]
        for record in try await selectEverywhere(CommandArguments.Select()).values {
            for group in record.groups { grouped[group, default: []] += values(record) }
        }
        return grouped
    }

    private static func uids(in records: some Sequence<CommandArguments.ClientRecord>) -> [String] {
        Array(Set(records.compactMap(\.uid))).sorted()
    }

    private static func keyedByClientID<Value>(_ answer: [String: Value]) -> [ClientID: Value] {
        Dictionary(answer.compactMap { key, value in ClientID(key).map { ($0, value) } }, uniquingKeysWith: { $1 })
    }
}
