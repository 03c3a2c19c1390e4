/// The JSON carried in the ext data of commands that need more than a client and a body, and the
/// JSON answers of queries (``GatewayCommand/queryResult``). Clients of the gateway that receives
/// the command are named by connection number; answers name clients by full ``ClientID`` text.
public enum CommandArguments {
    /// ``GatewayCommand/sendToAll``: only to `clients` when given, never to `exclude`.
    public struct SendToAll: Codable, Sendable, Equatable {
        public var clients: [UInt32]?
        public var exclude: [UInt32]?

        public init(clients: [UInt32]? = nil, exclude: [UInt32]? = nil) {
            self.clients = clients
            self.exclude = exclude
        }
    }

    /// ``GatewayCommand/sendToGroup``: to every member of `groups`, never to `exclude`.
    public struct SendToGroup: Codable, Sendable, Equatable {
        public var groups: [String]
        public var exclude: [UInt32]?

        public init(groups: [String], exclude: [UInt32]? = nil) {
            self.groups = groups
            self.exclude = exclude
        }
    }

    /// ``GatewayCommand/select``: the clients matching every given condition (all when none is).
    public struct Select: Codable, Sendable, Equatable {
        public var groups: [String]?
        public var uids: [String]?
        public var clients: [UInt32]?
        /// Include sessions in the answer (they can be large).
        public var withSessions: Bool

        public init(groups: [String]? = nil, uids: [String]? = nil, clients: [UInt32]? = nil, withSessions: Bool = false) {
            self.groups = groups
            self.uids = uids
            self.clients = clients
            self.withSessions = withSessions
        }
    }

    /// The answer to ``GatewayCommand/getSessionByClientID``: nil when the client is not connected.
    public struct SessionAnswer: Codable, Sendable, Equatable {
        public var session: [String: JSONValue]?

        public init(session: [String: JSONValue]?) {
            self.session = session
        }
    }

    /// One client in the answer to ``Select``.
    public struct ClientRecord: Codable, Sendable, Equatable {
        public var uid: String?
        public var groups: [String]
        public var session: JSONValue?

        public init(uid: String?, groups: [String], session: JSONValue?) {
            self.uid = uid
            self.groups = groups
            self.session = session
        }
    }
}
