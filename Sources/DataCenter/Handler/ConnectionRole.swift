import Wire
import Worker

/// Who a connection authenticated as, kept in its session so that any worker knows on its next event.
enum ConnectionRole: Sendable, Hashable {
    case agent(host: String)
    case person(name: String)
    case service(name: String)

    private static let roleKey = "dc.role"
    private static let nameKey = "dc.name"

    /// The uid an agent's connection is bound to, and the group every operator joins.
    static func agentUID(_ host: String) -> String { "host:\(host)" }
    static let operatorsGroup = "operators"
    /// The group of the connections watching a job.
    static func watchersGroup(_ job: String) -> String { "job:\(job)" }

    /// The role recorded in `session`, nil before authentication.
    init?(session: ClientSession) {
        guard let name = session[Self.nameKey]?.stringValue else { return nil }
        switch session[Self.roleKey]?.stringValue {
        case "agent": self = .agent(host: name)
        case "operator": self = .person(name: name)
        case "service": self = .service(name: name)
        default: return nil
        }
    }

    /// Records this role in `session`.
    func record(in session: ClientSession) {
        switch self {
        case .agent(let host): (session[Self.roleKey], session[Self.nameKey]) = ("agent", .string(host))
        case .person(let name): (session[Self.roleKey], session[Self.nameKey]) = ("operator", .string(name))
        case .service(let name): (session[Self.roleKey], session[Self.nameKey]) = ("service", .string(name))
        }
    }

    /// The name a job records as the one who asked for it.
    var requester: String {
        switch self {
        case .agent(let host): return "agent:\(host)"
        case .person(let name): return name
        case .service(let name): return "service:\(name)"
        }
    }
}
