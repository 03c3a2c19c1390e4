import Wire

/// The answers to workers' queries about this gateway's clients.
extension ClientDirectory {
    /// The clients matching every condition of `select` (all clients when it has none).
    func select(_ select: CommandArguments.Select, lanAddress: GatewayAddress) -> [String: CommandArguments.ClientRecord] {
        table.withLockedValue { table in
            var candidates: Set<UInt32>?
            func narrow(_ numbers: Set<UInt32>) {
                candidates = candidates.map { $0.intersection(numbers) } ?? numbers
            }
            if let groups = select.groups { narrow(table.numbers(inGroups: groups)) }
            if let uids = select.uids { narrow(table.numbers(withUIDs: uids)) }
            if let clients = select.clients { narrow(Set(clients)) }
            var answer: [String: CommandArguments.ClientRecord] = [:]
            for number in candidates ?? Set(table.records.keys) {
                guard let record = table.records[number] else { continue }
                let id = ClientID(gateway: lanAddress, connectionNumber: number)
                answer[id.description] = CommandArguments.ClientRecord(
                    uid: record.uid,
                    groups: record.groups.sorted(),
                    session: select.withSessions ? .object(record.session) : nil
                )
            }
            return answer
        }
    }

    /// How many clients are in `group`; every client when `group` is empty.
    func count(inGroup group: String) -> Int {
        table.withLockedValue { group.isEmpty ? $0.records.count : $0.numbersByGroup[group]?.count ?? 0 }
    }

    /// The names of every group with at least one member here.
    var groupNames: [String] {
        table.withLockedValue { $0.numbersByGroup.keys.sorted() }
    }

    /// The ids of the clients bound to `uid`.
    func clientIDs(boundTo uid: String, lanAddress: GatewayAddress) -> [String] {
        table.withLockedValue { table in
            (table.numbersByUID[uid] ?? []).sorted().map { ClientID(gateway: lanAddress, connectionNumber: $0).description }
        }
    }
}
