import NIOConcurrencyHelpers
import CMemcached
import NIOCore
import NIOPosix

/// An async memcached client on libmemcached.
///
/// libmemcached blocks, so no call ever runs on the caller's thread or an event loop: every request runs on
/// the client's own `NIOThreadPool`, on one of `poolSize` handles, each used by one thread at a time.
/// Every request is bounded by the configured connect and I/O timeouts; a server that is down makes
/// requests fail fast with a ``MemcachedError`` and is tried again after `retryTimeout`.
///
/// Expirations are in seconds (`0` never expires; over 30 days memcached reads them as a Unix time).
/// Call ``shutdown()`` when done.
public final class MemcachedClient: Sendable {
    /// The configuration the client was created with.
    public let configuration: MemcachedConfiguration

    private let threadPool: NIOThreadPool
    private let servers: [MemcachedConfiguration.Server]
    private let handles: NIOLockedValueBox<Handles>

    private struct Handles {
        var free: [MemcachedHandle]
        var all: [MemcachedHandle]
        var isShutDown = false
    }

    /// The longest key memcached accepts, in bytes.
    public static let maximumKeyLength = 250

    /// Creates a client and starts its threads. No connection is made until the first request.
    /// - Throws: ``MemcachedError`` when the server list cannot be parsed.
    public init(configuration: MemcachedConfiguration = MemcachedConfiguration()) throws {
        self.configuration = configuration
        let servers = try configuration.parsedServers()
        let poolSize = max(1, configuration.poolSize)
        var made: [MemcachedHandle] = []
        do {
            for _ in 0..<poolSize {
                made.append(try MemcachedHandle.make(configuration, servers: servers))
            }
        } catch {
            made.forEach { $0.free() }
            throw error
        }
        self.servers = servers
        self.handles = NIOLockedValueBox(Handles(free: made, all: made))
        self.threadPool = NIOThreadPool(numberOfThreads: poolSize)
        threadPool.start()
    }

    deinit {
        let handles = self.handles
        let wasRunning = handles.withLockedValue { state in
            defer { state.isShutDown = true }
            return !state.isShutDown
        }
        // Without shutdown(): no request can still be running (each holds `self`), so stop the
        // threads in the background and free the handles once they are gone.
        if wasRunning {
            threadPool.shutdownGracefully { _ in
                handles.withLockedValue { state in
                    state.all.forEach { $0.free() }
                    state.all = []
                    state.free = []
                }
            }
        }
    }

    /// Stops the threads and frees every handle, after the requests in flight finish.
    /// Later requests throw ``MemcachedError/Reason-swift.enum/clientShutDown``. Safe to call more than once.
    public func shutdown() async {
        let first = handles.withLockedValue { state in
            defer { state.isShutDown = true }
            return !state.isShutDown
        }
        guard first else { return }
        try? await threadPool.shutdownGracefully()
        handles.withLockedValue { state in
            state.all.forEach { $0.free() }
            state.all = []
            state.free = []
        }
    }

    // MARK: - Reading

    /// The value stored under `key`, or nil when there is none.
    public func get(_ key: String) async throws -> [UInt8]? {
        try await run("get", key: key) { handle, key in
            var length = 0
            var flags: UInt32 = 0
            var rc = MEMCACHED_SUCCESS
            let value = key.withCChars { memcached_get(handle.pointer, $0, $1, &length, &flags, &rc) }
            defer { free(value) }
            if rc == MEMCACHED_NOTFOUND { return nil }
            guard rc == MEMCACHED_SUCCESS else { throw self.failure(rc, handle, "get", key) }
            guard let value else { return [] }
            return Array(UnsafeRawBufferPointer(start: value, count: length))
        }
    }

    /// The value stored under `key` with its compare-and-swap token (for ``cas(_:_:cas:expiration:)``), or nil.
    public func gets(_ key: String) async throws -> (value: [UInt8], cas: UInt64)? {
        let found = try await run("gets", key: key) { handle, key in
            try self.fetch(handle, keys: [key], operation: "gets")
        }
        guard let item = found.first else { return nil }
        return (item.value, item.cas)
    }

    /// The values of those `keys` that exist, in one round trip per server. Missing keys are left out.
    ///
    /// Throws if any server holding one of the keys fails, rather than return a partial answer.
    public func getMany(_ keys: [String]) async throws -> [String: [UInt8]] {
        guard !keys.isEmpty else { return [:] }
        for key in keys { try validate(key, operation: "getMany") }
        let items = try await run("getMany", key: nil) { handle, _ in
            try self.fetch(handle, keys: keys.map { Array($0.utf8) }, operation: "getMany")
        }
        var values: [String: [UInt8]] = [:]
        for item in items { values[item.key] = item.value }
        return values
    }

    // MARK: - Writing

    /// Stores `value` under `key`, replacing any value.
    /// - Parameter expiration: seconds until it expires; 0 never expires.
    public func set(_ key: String, _ value: [UInt8], expiration: Int = 0) async throws {
        try await run("set", key: key) { handle, key in
            let rc = key.withCChars { k, kl in
                value.withCChars { v, vl in memcached_set(handle.pointer, k, kl, v, vl, time_t(expiration), 0) }
            }
            guard rc == MEMCACHED_SUCCESS else { throw self.failure(rc, handle, "set", key) }
        }
    }

    /// Stores `value` under `key` only if the key holds nothing.
    /// - Returns: false when the key already exists.
    public func add(_ key: String, _ value: [UInt8], expiration: Int = 0) async throws -> Bool {
        try await run("add", key: key) { handle, key in try self.add(handle, key, value, expiration: expiration) }
    }

    /// Adds `value` to the end of what `key` holds, without reading it.
    /// - Returns: false when the key does not exist, or the item would grow past the server's item size.
    public func append(_ key: String, _ value: [UInt8]) async throws -> Bool {
        try await run("append", key: key) { handle, key in
            let rc = key.withCChars { k, kl in
                value.withCChars { v, vl in memcached_append(handle.pointer, k, kl, v, vl, 0, 0) }
            }
            switch rc {
            case MEMCACHED_SUCCESS: return true
            case MEMCACHED_NOTSTORED, MEMCACHED_NOTFOUND, MEMCACHED_E2BIG: return false
            default: throw self.failure(rc, handle, "append", key)
            }
        }
    }

    /// Stores `value` under `key` only if it has not changed since ``gets(_:)`` returned `cas`.
    /// - Returns: false when the key changed or vanished since it was read.
    public func cas(_ key: String, _ value: [UInt8], cas: UInt64, expiration: Int = 0) async throws -> Bool {
        try await run("cas", key: key) { handle, key in
            let rc = key.withCChars { k, kl in
                value.withCChars { v, vl in memcached_cas(handle.pointer, k, kl, v, vl, time_t(expiration), 0, cas) }
            }
            switch rc {
            case MEMCACHED_SUCCESS: return true
            case MEMCACHED_DATA_EXISTS, MEMCACHED_NOTFOUND, MEMCACHED_NOTSTORED: return false
            default: throw self.failure(rc, handle, "cas", key)
            }
        }
    }

    /// Adds `delta` to the decimal number stored under `key` (wrapping at 2^64).
    /// - Returns: the new value, or nil when the key does not exist.
    public func increment(_ key: String, by delta: UInt64 = 1) async throws -> UInt64? {
        try await run("increment", key: key) { handle, key in try self.increment(handle, key, by: delta) }
    }

    /// Adds `delta` to the number under `key`, first storing `initial` (and returning it) if the key does not exist.
    ///
    /// libmemcached's `memcached_increment_with_initial` needs the binary protocol, so this is an
    /// increment, then an add of `initial` if the key was missing, then an increment again if another
    /// process added it first.
    /// - Parameter expiration: applies only when `initial` is stored.
    public func increment(_ key: String, by delta: UInt64, initial: UInt64, expiration: Int = 0) async throws -> UInt64 {
        try await run("increment", key: key) { handle, key in
            for _ in 0..<8 {
                if let value = try self.increment(handle, key, by: delta) { return value }
                if try self.add(handle, key, Array(String(initial).utf8), expiration: expiration) { return initial }
            }
            throw MemcachedError(.tooManyConflicts(attempts: 8), operation: "increment", key: String(decoding: key, as: UTF8.self), servers: self.configuration.servers)
        }
    }

    /// Deletes `key`.
    /// - Returns: false when there was nothing to delete.
    public func delete(_ key: String) async throws -> Bool {
        try await run("delete", key: key) { handle, key in
            let rc = key.withCChars { memcached_delete(handle.pointer, $0, $1, 0) }
            switch rc {
            case MEMCACHED_SUCCESS: return true
            case MEMCACHED_NOTFOUND: return false
            default: throw self.failure(rc, handle, "delete", key)
            }
        }
    }

    // MARK: - Keys

    /// Checks that memcached's text protocol can carry `key`: 1–250 bytes of UTF-8, no space or control character.
    /// - Throws: ``MemcachedError`` with reason ``MemcachedError/Reason-swift.enum/invalidKey(_:)``.
    public func validate(_ key: String, operation: String = "validate") throws {
        if let why = Self.keyProblem(key) {
            throw MemcachedError(.invalidKey(why), operation: operation, key: key, servers: configuration.servers)
        }
    }

    /// Why `key` cannot be sent to memcached, or nil when it can.
    public static func keyProblem(_ key: String) -> String? {
        let bytes = key.utf8
        if bytes.isEmpty { return "the key is empty" }
        if bytes.count > maximumKeyLength {
            return "the key is \(bytes.count) bytes long, memcached allows \(maximumKeyLength)"
        }
        if let bad = bytes.first(where: { $0 <= 0x20 || $0 == 0x7f }) {
            return "the key contains \(bad == 0x20 ? "a space" : "control character 0x\(String(bad, radix: 16))")"
        }
        return nil
    }

    // MARK: - On the pool threads

    private func run<T: Sendable>(
        _ operation: String,
        key: String?,
        _ body: @escaping @Sendable (MemcachedHandle, [UInt8]) throws -> T
    ) async throws -> T {
        if let key { try validate(key, operation: operation) }
        let keyBytes = key.map { Array($0.utf8) } ?? []
        guard !handles.withLockedValue({ $0.isShutDown }) else { throw shutDownError(operation, key) }
        do {
            return try await threadPool.runIfActive {
                let handle = try self.checkOut(operation, key)
                defer { self.checkIn(handle) }
                return try body(handle, keyBytes)
            }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw shutDownError(operation, key)
        }
    }

    private func checkOut(_ operation: String, _ key: String?) throws -> MemcachedHandle {
        let handle: MemcachedHandle? = try handles.withLockedValue { state in
            guard !state.isShutDown else { throw shutDownError(operation, key) }
            return state.free.popLast()
        }
        if let handle { return handle }
        // Only if the pool ever runs more threads than handles: grow rather than share a handle.
        let extra = try MemcachedHandle.make(configuration, servers: servers)
        handles.withLockedValue { $0.all.append(extra) }
        return extra
    }

    private func checkIn(_ handle: MemcachedHandle) {
        handles.withLockedValue { $0.free.append(handle) }
    }

    private func shutDownError(_ operation: String, _ key: String?) -> MemcachedError {
        MemcachedError(.clientShutDown, operation: operation, key: key, servers: configuration.servers)
    }

    private func failure(_ rc: memcached_return_t, _ handle: MemcachedHandle, _ operation: String, _ key: [UInt8]?) -> MemcachedError {
        MemcachedError(
            .library(code: rc.rawValue, text: String(cString: memcached_strerror(handle.pointer, rc))),
            operation: operation,
            key: key.map { String(decoding: $0, as: UTF8.self) },
            servers: configuration.servers
        )
    }

    private func add(_ handle: MemcachedHandle, _ key: [UInt8], _ value: [UInt8], expiration: Int) throws -> Bool {
        let rc = key.withCChars { k, kl in
            value.withCChars { v, vl in memcached_add(handle.pointer, k, kl, v, vl, time_t(expiration), 0) }
        }
        switch rc {
        case MEMCACHED_SUCCESS: return true
        case MEMCACHED_NOTSTORED, MEMCACHED_DATA_EXISTS: return false
        default: throw failure(rc, handle, "add", key)
        }
    }

    private func increment(_ handle: MemcachedHandle, _ key: [UInt8], by delta: UInt64) throws -> UInt64? {
        var value: UInt64 = 0
        // The _by_key form takes a 64-bit delta; memcached_increment's is 32-bit.
        let rc = key.withCChars { memcached_increment_by_key(handle.pointer, $0, $1, $0, $1, delta, &value) }
        switch rc {
        case MEMCACHED_SUCCESS: return value
        case MEMCACHED_NOTFOUND: return nil
        default: throw failure(rc, handle, "increment", key)
        }
    }

    private struct Item: Sendable {
        var key: String
        var value: [UInt8]
        var cas: UInt64
    }

    /// `memcached_mget` then `memcached_fetch_result` until the end, so the handle is left clean.
    private func fetch(_ handle: MemcachedHandle, keys: [[UInt8]], operation: String) throws -> [Item] {
        let single = keys.count == 1 ? keys[0] : nil
        let cKeys: [UnsafeMutablePointer<CChar>] = keys.map { key in
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, key.count))
            key.withUnsafeBytes { UnsafeMutableRawPointer(copy).copyMemory(from: $0.baseAddress!, byteCount: key.count) }
            return copy
        }
        defer { cKeys.forEach { $0.deallocate() } }
        let lengths = keys.map(\.count)
        let rc = cKeys.map { UnsafePointer($0) as UnsafePointer<CChar>? }.withUnsafeBufferPointer { keyPointers in
            lengths.withUnsafeBufferPointer { memcached_mget(handle.pointer, keyPointers.baseAddress, $0.baseAddress, keys.count) }
        }
        guard rc == MEMCACHED_SUCCESS else { throw failure(rc, handle, operation, single) }

        // Our own storage: memcached_fetch_result frees a result that libmemcached allocated when the
        // fetch ends, but only resets one that it was given in place.
        let result = UnsafeMutablePointer<memcached_result_st>.allocate(capacity: 1)
        defer { result.deallocate() }
        guard memcached_result_create(handle.pointer, result) != nil else {
            throw failure(MEMCACHED_MEMORY_ALLOCATION_FAILURE, handle, operation, single)
        }
        defer { memcached_result_free(result) }
        var items: [Item] = []
        var firstError: memcached_return_t?
        while true {
            var fetchRC = MEMCACHED_SUCCESS
            guard memcached_fetch_result(handle.pointer, result, &fetchRC) != nil else {
                if fetchRC != MEMCACHED_END && fetchRC != MEMCACHED_NOTFOUND && fetchRC != MEMCACHED_SUCCESS {
                    firstError = firstError ?? fetchRC
                }
                break
            }
            guard fetchRC == MEMCACHED_SUCCESS else {
                firstError = firstError ?? fetchRC
                continue
            }
            let key = String(
                decoding: UnsafeRawBufferPointer(start: memcached_result_key_value(result), count: memcached_result_key_length(result)),
                as: UTF8.self
            )
            let length = memcached_result_length(result)
            let value = memcached_result_value(result).map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
            items.append(Item(key: key, value: value, cas: memcached_result_cas(result)))
        }
        if let firstError { throw failure(firstError, handle, operation, single) }
        return items
    }
}

extension Array where Element == UInt8 {
    /// The bytes as the `const char *` and length that libmemcached takes.
    fileprivate func withCChars<R>(_ body: (UnsafePointer<CChar>?, Int) throws -> R) rethrows -> R {
        try withUnsafeBytes { bytes in
            try body(bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
    }
}
