import NIOConcurrencyHelpers
import Wire

/// The current client's session as a handler sees it (GatewayWorker's `$_SESSION`): a JSON object
/// the gateway keeps for the client. Changes made while handling an event reach the client's gateway
/// after the handler returns, and the client's next event, on any worker, carries them.
public final class ClientSession: @unchecked Sendable {
    /// Guards the values and whether they changed. One lock serves every session of the worker: a
    /// lock of its own would be a second allocation per event, and handlers hold it for a dictionary
    /// access at a time, on one event loop, so it is hardly ever contended.
    private let lock: NIOLock
    private var _values: [String: JSONValue]
    private var changed = false

    init(_ values: [String: JSONValue], lock: NIOLock) {
        self.lock = lock
        self._values = values
    }

    /// One member of the session; setting nil removes it.
    public subscript(key: String) -> JSONValue? {
        get { lock.withLock { _values[key] } }
        set {
            lock.withLock {
                _values[key] = newValue
                changed = true
            }
        }
    }

    /// The whole session; setting it replaces it.
    public var values: [String: JSONValue] {
        get { lock.withLock { _values } }
        set {
            lock.withLock {
                _values = newValue
                changed = true
            }
        }
    }

    /// The session after the handler, if it changed anything.
    var changedValues: [String: JSONValue]? {
        lock.withLock { changed ? _values : nil }
    }
}
