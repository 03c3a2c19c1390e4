/// The memcached items a cluster-wide list is spread over, chosen by a hash of each entry: adding or
/// removing an entry rewrites a list of a few dozen entries rather than the whole list, and workers
/// seldom race on the same item. Reading the whole list is one multi-get of every item.
struct SpreadKeys: Sendable {
    /// Items are `<prefix>.0` to `<prefix>.<count - 1>`.
    let prefix: String
    let count: Int

    /// The item that holds `entry`.
    func key(for entry: String) -> String {
        "\(prefix).\(bucket(of: entry))"
    }

    /// Every item, to read the whole list.
    var allKeys: [String] {
        (0..<count).map { "\(prefix).\($0)" }
    }

    /// `entries` by the item that holds them.
    func grouped(_ entries: some Sequence<String>) -> [String: [String]] {
        Dictionary(grouping: entries, by: key(for:))
    }

    /// FNV-1a of the entry: the same in every process (Swift's `hashValue` is seeded per process).
    private func bucket(of entry: String) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in entry.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int(hash % UInt32(count))
    }
}
