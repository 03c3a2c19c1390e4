/// The command byte of a ``GatewayFrame``.
///
/// The numbers are GatewayWorker's (`GatewayProtocol.php`), so that its PHP peers can be spoken to.
/// Numbers from 210 up are DataCentered's own additions.
public enum GatewayCommand: UInt8, Sendable, CaseIterable {
    // Gateway -> worker: client events.
    case onConnect = 1
    case onMessage = 3
    case onClose = 4
    // Worker -> gateway: commands on clients.
    case sendToOne = 5
    case sendToAll = 6
    case kick = 7
    case destroy = 8
    case updateSession = 9
    case getAllClientSessions = 10
    case isOnline = 11
    case bindUID = 12
    case unbindUID = 13
    case sendToUID = 14
    case getClientIDByUID = 15
    case batchGetClientIDByUID = 16
    case joinGroup = 20
    case leaveGroup = 21
    case sendToGroup = 22
    case getClientSessionsByGroup = 23
    case getClientCountByGroup = 24
    case select = 25
    case getGroupIDList = 26
    case ungroup = 27
    case batchGetClientCountByGroup = 28
    // Link management.
    case workerConnect = 200
    case ping = 201
    case gatewayClientConnect = 202
    case getSessionByClientID = 203
    case setSession = 204
    case onWebSocketConnect = 205
    // DataCentered's own.
    /// Gateway -> worker: the answer to a link handshake (accepted or refused, with a reason).
    case handshakeResult = 210
    /// Worker -> gateway: the number of client events on this link the worker has handled (cumulative).
    case acknowledge = 211
    /// Worker -> gateway: route no new events here; the worker is stopping.
    case workerLeaving = 212
    /// Gateway -> worker: no event follows on this link.
    case leaveAccepted = 213
    /// Gateway -> worker: the JSON answer to the oldest query not yet answered on this link.
    case queryResult = 214
    /// Worker -> gateway: relay a Channel event (body) to every linked worker.
    case channelPublish = 215
    /// Gateway -> worker: a Channel event published by some worker.
    case channelEvent = 216
    /// Gateway -> linking side: the gateway's nonce, answering a hello (``LinkChallenge``).
    case linkChallenge = 217
    /// Linking side -> gateway: the HMAC proving the key (``LinkProof``).
    case linkProof = 218

    /// True for the commands a gateway answers with a ``queryResult``, in the order it received them.
    public var isQuery: Bool {
        switch self {
        case .isOnline, .getSessionByClientID, .getClientIDByUID, .batchGetClientIDByUID, .getClientCountByGroup,
            .batchGetClientCountByGroup, .getClientSessionsByGroup, .getAllClientSessions, .getGroupIDList, .select:
            return true
        default:
            return false
        }
    }

    /// True for the events a gateway forwards about its clients: the ones a worker acknowledges.
    public var isClientEvent: Bool {
        switch self {
        case .onConnect, .onMessage, .onClose, .onWebSocketConnect: return true
        default: return false
        }
    }
}
