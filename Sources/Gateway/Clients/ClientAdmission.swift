import ClusterLogging
import Logging
import NIOCore

/// What every client protocol handler (WebSocket, text line) needs to let a connection in as a
/// client and to let it go: the directory, the worker links, the event frames of its listener.
struct ClientAdmission: Sendable {
    let directory: ClientDirectory
    let links: WorkerLinkTable
    /// Event frames stamped with the port of the listener the clients come in on.
    let events: ClientEventFrames
    let limits: ClientEventRouter.Limits
    let logger: Logger
    let peerLog: RateLimitedLog

    /// Lists a new connection as a client and forwards its connect event.
    func admit(_ channel: Channel) -> ClientEventRouter {
        let connection = directory.admit(channel)
        let router = ClientEventRouter(connection: connection, links: links, limits: limits, logger: logger, peerLog: peerLog)
        router.forward(events.connect(connection))
        return router
    }

    /// The client's connection ended: forwards its close event (with its last session) and forgets it.
    func disconnected(_ router: ClientEventRouter) {
        let close = events.close(router.connection)  // before removal: it carries the session
        directory.remove(router.connection.number)
        router.forward(close)
        router.detachFromWorker()
        let dropped = router.connection.droppedMessages
        if dropped > 0 {
            peerLog.log(.notice, "client left having missed messages (send buffer full)", "\(dropped) dropped", metadata: ["client": "\(close.clientID)"])
        }
    }
}
