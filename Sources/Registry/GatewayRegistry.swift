import Wire

/// The cluster's list of gateway internal addresses, kept in memcached, which workers read to find every gateway.
///
/// memcached cannot list keys, so the registry keeps two kinds:
/// * `<prefix>:gateways` — every registered address, comma-separated `ip:port` text, no expiry; changed
///   only with gets/cas so concurrent registrations never overwrite each other;
/// * `<prefix>:gateway:<ip:port>` — one liveness key per gateway, set with a TTL on every refresh.
///
/// A gateway is live while its liveness key exists. ``liveGateways()`` drops expired entries from the list
/// (best effort); a gateway pruned while it was merely late adds itself back on its next ``register(_:ttl:)``.
public struct GatewayRegistry: Sendable {
    /// The client every request goes through.
    public let client: MemcachedClient
    /// The prefix of every key, so several clusters can share one memcached.
    public let prefix: String
    /// How many compare-and-swap conflicts in a row an update of the list tolerates before it fails.
    public var maximumCasAttempts = 32

    /// Creates a registry on `client`, with keys under `prefix`.
    public init(client: MemcachedClient, prefix: String = "dc") {
        self.client = client
        self.prefix = prefix
    }

    /// The key of the address list.
    public var listKey: String { "\(prefix):gateways" }

    /// The liveness key of one gateway.
    public func livenessKey(for address: GatewayAddress) -> String {
        "\(prefix):gateway:\(address)"
    }

    /// Marks `address` live for `ttl` seconds and makes sure the list holds it. Idempotent: call it again to refresh.
    public func register(_ address: GatewayAddress, ttl: Int) async throws {
        precondition(ttl > 0, "a gateway's ttl must be at least one second")
        // Liveness first, so that a reader who finds the address in the list also finds it live.
        try await client.set(livenessKey(for: address), Array(address.description.utf8), expiration: ttl)
        try await updateList(operation: "register") { list in
            list.contains(address) ? nil : list + [address]
        }
    }

    /// Removes `address` from the list and deletes its liveness key.
    public func unregister(_ address: GatewayAddress) async throws {
        try await updateList(operation: "unregister") { list in
            list.contains(address) ? list.filter { $0 != address } : nil
        }
        _ = try await client.delete(livenessKey(for: address))
    }

    /// Every listed gateway whose liveness key is present, sorted. Prunes expired ones from the list, best effort.
    public func liveGateways() async throws -> [GatewayAddress] {
        guard let read = try await client.gets(listKey) else { return [] }
        let listed = Self.decode(read.value)
        guard !listed.isEmpty else { return [] }
        let alive = try await client.getMany(listed.map(livenessKey(for:)))
        let live = listed.filter { alive[livenessKey(for: $0)] != nil }
        if live.count != listed.count {
            // With the token read above: if anyone changed the list meanwhile, leave it to a later read.
            _ = try? await client.cas(listKey, Self.encode(live), cas: read.cas)
        }
        return live.sorted()
    }

    /// Every address in the list, live or not, sorted; mainly for diagnostics.
    public func listedGateways() async throws -> [GatewayAddress] {
        guard let value = try await client.get(listKey) else { return [] }
        return Self.decode(value).sorted()
    }

    /// Applies `change` to the list with gets/cas, retrying on conflicts. `change` returns nil for "nothing to do".
    private func updateList(operation: String, _ change: ([GatewayAddress]) -> [GatewayAddress]?) async throws {
        for attempt in 0..<maximumCasAttempts {
            if let read = try await client.gets(listKey) {
                guard let updated = change(Self.decode(read.value)) else { return }
                if try await client.cas(listKey, Self.encode(updated), cas: read.cas) { return }
            } else {
                guard let updated = change([]) else { return }
                if try await client.add(listKey, Self.encode(updated)) { return }
            }
            // Lost a race: back off a little, randomly, so that contenders stop colliding.
            try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 + attempt * 5))))
        }
        throw MemcachedError(
            .tooManyConflicts(attempts: maximumCasAttempts),
            operation: operation,
            key: listKey,
            servers: client.configuration.servers
        )
    }

    static func encode(_ addresses: [GatewayAddress]) -> [UInt8] {
        Array(addresses.sorted().map(\.description).joined(separator: ",").utf8)
    }

    static func decode(_ value: [UInt8]) -> [GatewayAddress] {
        var seen = Set<GatewayAddress>()
        return String(decoding: value, as: UTF8.self)
            .split(separator: ",")
            .compactMap { GatewayAddress($0) }
            .filter { seen.insert($0).inserted }
    }
}
