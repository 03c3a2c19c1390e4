import NIOConcurrencyHelpers
import Wire

/// The current client's session as a handler sees it (GatewayWorker's `$_SESSION`): a JSON object
/// the gateway keeps for the client. Changes made while handling an event reach the client's gateway
/// after the handler returns, and the client's next event, on any worker, carries them.
public final class ClientSession: Sendable {
    private let state: NIOLockedValueBox<(values: [String: JSONValue], changed: Bool)>

    init(_ values: [String: JSONValue]) {
        self.state = NIOLockedValueBox((values, false))
    }

    /// One member of the session; setting nil removes it.
    public subscript(key: String) -> JSONValue? {
        get { state.withLockedValue { $0.values[key] } }
        set {
            state.withLockedValue {
                $0.values[key] = newValue
                $0.changed = true
            }
        }
    }

    /// The whole session; setting it replaces it.
    public var values: [String: JSONValue] {
        get { state.withLockedValue { $0.values } }
        set { state.withLockedValue { $0 = (newValue, true) } }
    }

    /// The session after the handler, if it changed anything.
    var changedValues: [String: JSONValue]? {
        state.withLockedValue { $0.changed ? $0.values : nil }
    }
}
