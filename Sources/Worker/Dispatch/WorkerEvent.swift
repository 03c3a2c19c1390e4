import Cluster
import Wire

/// What a worker runs its handler on.
enum WorkerEvent: Sendable {
    /// A client event, with its position among the client events of its gateway link (to acknowledge it).
    case client(GatewayFrame, GatewaySession, position: UInt64)
    case channelEvent(GatewayFrame, GatewaySession)
    case timer(WorkerTimers.TimerID, WorkerTimers.Body)

    /// The items that must run one at a time, in arrival order, when several may run at once.
    enum Lane: Hashable {
        /// Every item: one at a time.
        case all
        case client(ClientID)
        case timers
        case channelEvents
    }

    /// This item's lane when the worker runs several items at once.
    var lane: Lane {
        switch self {
        case .client(let frame, _, _): .client(frame.clientID)
        case .channelEvent: .channelEvents
        case .timer: .timers
        }
    }
}
