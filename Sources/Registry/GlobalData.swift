import Foundation

/// Data shared by every process of the cluster, on every machine: GatewayWorker's GlobalData, on memcached.
///
/// Keys are the application's own; they are stored under `<prefix>:global:` so they never collide with
/// the registry. Values are bytes, or JSON through the `Codable` conveniences. For read-modify-write
/// without a lock, read with ``gets(_:)`` and write back with ``cas(_:_:cas:expiration:)``, or use ``update(_:as:expiration:_:)``.
public struct GlobalData: Sendable {
    /// The client every request goes through.
    public let client: MemcachedClient
    /// What is put in front of every key: `<prefix>:global:`.
    public let keyPrefix: String

    /// Creates a view of the shared data under `prefix`.
    public init(client: MemcachedClient, prefix: String = "dc") {
        self.client = client
        self.keyPrefix = "\(prefix):global:"
    }

    /// The memcached key that holds `key`.
    public func storageKey(_ key: String) -> String { keyPrefix + key }

    /// The value of `key`, or nil.
    public func get(_ key: String) async throws -> [UInt8]? {
        try await client.get(storageKey(key))
    }

    /// The value of `key` and the token to pass to ``cas(_:_:cas:expiration:)``, or nil.
    public func gets(_ key: String) async throws -> (value: [UInt8], cas: UInt64)? {
        try await client.gets(storageKey(key))
    }

    /// Stores `value` under `key`. `expiration` is in seconds; 0 never expires.
    public func set(_ key: String, _ value: [UInt8], expiration: Int = 0) async throws {
        try await client.set(storageKey(key), value, expiration: expiration)
    }

    /// Stores `value` only if `key` holds nothing; false when it already exists.
    public func add(_ key: String, _ value: [UInt8], expiration: Int = 0) async throws -> Bool {
        try await client.add(storageKey(key), value, expiration: expiration)
    }

    /// Adds `value` to the end of what `key` holds; false when `key` holds nothing or would grow too large.
    public func append(_ key: String, _ value: [UInt8]) async throws -> Bool {
        try await client.append(storageKey(key), value)
    }

    /// Stores `value` only if `key` is unchanged since ``gets(_:)`` returned `cas`; false otherwise.
    public func cas(_ key: String, _ value: [UInt8], cas: UInt64, expiration: Int = 0) async throws -> Bool {
        try await client.cas(storageKey(key), value, cas: cas, expiration: expiration)
    }

    /// Adds `delta` to the number under `key`; nil when the key does not exist.
    public func increment(_ key: String, by delta: UInt64 = 1) async throws -> UInt64? {
        try await client.increment(storageKey(key), by: delta)
    }

    /// Adds `delta` to the number under `key`, storing (and returning) `initial` if there is none yet.
    public func increment(_ key: String, by delta: UInt64, initial: UInt64, expiration: Int = 0) async throws -> UInt64 {
        try await client.increment(storageKey(key), by: delta, initial: initial, expiration: expiration)
    }

    /// Deletes `key`; false when there was nothing.
    public func delete(_ key: String) async throws -> Bool {
        try await client.delete(storageKey(key))
    }

    // MARK: - JSON

    /// The JSON value of `key` decoded as `type`, or nil when there is none.
    public func get<T: Decodable>(_ key: String, as type: T.Type) async throws -> T? {
        guard let bytes = try await get(key) else { return nil }
        return try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// The JSON values of `keys` decoded as `type`, in the order of `keys`, in one round trip;
    /// keys that hold nothing are left out.
    public func get<T: Decodable>(_ keys: [String], as type: T.Type) async throws -> [T] {
        let storageKeys = keys.map(storageKey)
        let found = try await client.getMany(storageKeys)
        return try storageKeys.compactMap { key in try found[key].map { try JSONDecoder().decode(type, from: Data($0)) } }
    }

    /// Stores `value` as JSON under `key`.
    public func set<T: Encodable>(_ key: String, json value: T, expiration: Int = 0) async throws {
        try await set(key, Array(try JSONEncoder().encode(value)), expiration: expiration)
    }

    /// Replaces the JSON value of `key` by `transform(current)` atomically, retrying when another process
    /// wrote in between. `transform` gets nil when the key does not exist yet; it may await (read
    /// other items), and runs again on every retry.
    /// - Returns: the value stored.
    public func update<T: Codable & Sendable>(
        _ key: String,
        as type: T.Type,
        expiration: Int = 0,
        maximumAttempts: Int = 32,
        _ transform: (T?) async throws -> T
    ) async throws -> T {
        var updated: T?
        _ = try await update(key, expiration: expiration, maximumAttempts: maximumAttempts) { bytes in
            let value = try await transform(try bytes.map { try JSONDecoder().decode(type, from: Data($0)) })
            updated = value
            return Array(try JSONEncoder().encode(value))
        }
        return updated!
    }

    /// Replaces the bytes of `key` by `transform(current)` atomically, retrying when another process
    /// wrote in between. `transform` gets nil when the key does not exist yet; it may await, and runs
    /// again on every retry.
    /// - Returns: the bytes stored.
    public func update(
        _ key: String,
        expiration: Int = 0,
        maximumAttempts: Int = 32,
        _ transform: ([UInt8]?) async throws -> [UInt8]
    ) async throws -> [UInt8] {
        for _ in 0..<maximumAttempts {
            if let read = try await gets(key) {
                let updated = try await transform(read.value)
                if try await cas(key, updated, cas: read.cas, expiration: expiration) { return updated }
            } else {
                let created = try await transform(nil)
                if try await add(key, created, expiration: expiration) { return created }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 1...10)))
        }
        throw MemcachedError(
            .tooManyConflicts(attempts: maximumAttempts),
            operation: "update",
            key: storageKey(key),
            servers: client.configuration.servers
        )
    }
}
