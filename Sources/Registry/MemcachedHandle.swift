import CMemcached
import NIOCore

/// One libmemcached connection set (`memcached_st`). Not thread-safe: one thread at a time, which the
/// client's free list guarantees.
struct MemcachedHandle: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<memcached_st>

    /// Creates a handle with the configuration's servers and behaviours.
    static func make(_ configuration: MemcachedConfiguration, servers: [MemcachedConfiguration.Server]) throws -> MemcachedHandle {
        guard let pointer = memcached_create(nil) else {
            throw MemcachedError(
                .library(code: MEMCACHED_MEMORY_ALLOCATION_FAILURE.rawValue, text: "memcached_create failed"),
                operation: "configure",
                servers: configuration.servers
            )
        }
        let handle = MemcachedHandle(pointer: pointer)
        do {
            try handle.configure(configuration, servers: servers)
        } catch {
            memcached_free(pointer)
            throw error
        }
        return handle
    }

    private func configure(_ configuration: MemcachedConfiguration, servers: [MemcachedConfiguration.Server]) throws {
        let milliseconds = { (amount: TimeAmount) in UInt64(max(1, amount.nanoseconds / 1_000_000)) }
        let behaviors: [(memcached_behavior_t, UInt64, String)] = [
            (MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, milliseconds(configuration.connectTimeout), "connect timeout"),
            (MEMCACHED_BEHAVIOR_POLL_TIMEOUT, milliseconds(configuration.ioTimeout), "poll timeout"),
            // Whole seconds; 0 would mean "retry on every call", hammering a dead server.
            (MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, UInt64(max(1, configuration.retryTimeout.nanoseconds / 1_000_000_000)), "retry timeout"),
            (MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1, "cas support"),
            (MEMCACHED_BEHAVIOR_TCP_NODELAY, 1, "TCP_NODELAY"),
            // Text protocol: cas and increment work; increment-with-initial does not (emulated by the client).
            (MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 0, "text protocol"),
            (MEMCACHED_BEHAVIOR_DISTRIBUTION, UInt64(MEMCACHED_DISTRIBUTION_CONSISTENT.rawValue), "consistent distribution"),
        ]
        for (behavior, value, name) in behaviors {
            let rc = memcached_behavior_set(pointer, behavior, value)
            guard rc == MEMCACHED_SUCCESS else {
                throw error(rc, operation: "configure \(name)", configuration: configuration)
            }
        }
        for server in servers {
            let rc = memcached_server_add(pointer, server.host, server.port)
            guard rc == MEMCACHED_SUCCESS else {
                throw error(rc, operation: "add server \(server.host):\(server.port)", configuration: configuration)
            }
        }
    }

    private func error(_ rc: memcached_return_t, operation: String, configuration: MemcachedConfiguration) -> MemcachedError {
        MemcachedError(
            .library(code: rc.rawValue, text: String(cString: memcached_strerror(pointer, rc))),
            operation: operation,
            servers: configuration.servers
        )
    }

    func free() {
        memcached_free(pointer)
    }
}
