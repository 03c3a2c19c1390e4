import Wire

/// uid bindings and group memberships (GatewayWorker's bindUid, joinGroup and friends).
extension ClientDirectory {
    /// Binds `uid` to a client, replacing its previous uid: one uid per client, many clients per uid.
    func bind(_ number: UInt32, toUID uid: String) {
        table.withLockedValue { table in
            guard let record = table.records[number] else { return }
            if let previous = record.uid { table.numbersByUID.remove(number, from: previous) }
            table.records[number]?.uid = uid
            table.numbersByUID[uid, default: []].insert(number)
        }
    }

    /// Unbinds `uid` from a client if it is the one bound.
    func unbind(_ number: UInt32, fromUID uid: String) {
        table.withLockedValue { table in
            guard table.records[number]?.uid == uid else { return }
            table.records[number]?.uid = nil
            table.numbersByUID.remove(number, from: uid)
        }
    }

    func join(_ number: UInt32, group: String) {
        table.withLockedValue { table in
            guard table.records[number] != nil else { return }
            table.records[number]?.groups.insert(group)
            table.numbersByGroup[group, default: []].insert(number)
        }
    }

    func leave(_ number: UInt32, group: String) {
        table.withLockedValue { table in
            guard table.records[number]?.groups.remove(group) != nil else { return }
            table.numbersByGroup.remove(number, from: group)
        }
    }

    /// Dissolves a group: its members stay connected, in no group of that name.
    func ungroup(_ group: String) {
        table.withLockedValue { table in
            for number in table.numbersByGroup.removeValue(forKey: group) ?? [] {
                table.records[number]?.groups.remove(group)
            }
        }
    }
}

extension ClientDirectory.Table {
    func connections(_ numbers: some Sequence<UInt32>) -> [ClientConnection] {
        numbers.compactMap { records[$0]?.connection }
    }

    func numbers(inGroups groups: [String]) -> Set<UInt32> {
        groups.reduce(into: Set<UInt32>()) { $0.formUnion(numbersByGroup[$1] ?? []) }
    }

    func numbers(withUIDs uids: [String]) -> Set<UInt32> {
        uids.reduce(into: Set<UInt32>()) { $0.formUnion(numbersByUID[$1] ?? []) }
    }
}
