import ClusterLogging
import NIOCore
import WebSocketFrames

/// What every client protocol handler (WebSocket, text line) needs to let a connection in as a
/// client and to let it go: the directory, the worker links, the event frames of its listener.
struct ClientAdmission: Sendable {
    let directory: ClientDirectory
    let links: WorkerLinkTable
    /// Event frames stamped with the port of the listener the clients come in on.
    let events: ClientEventFrames
    let limits: ClientEventRouter.Limits
    let peerLog: RateLimitedLog
    /// Each event loop's message and frame buffers, shared by every listener's clients.
    let loopBuffers: PerEventLoop<NIOLoopBoundBox<ByteBufferPool>>

    /// The message and frame buffers of `loop`. Call on `loop`.
    func buffers(on loop: EventLoop) -> ByteBufferPool {
        loopBuffers[loop].value
    }

    /// Lists a new connection as a client and forwards its connect event.
    func admit(_ channel: Channel) -> ClientEventRouter {
        let connection = directory.admit(channel)
        let router = ClientEventRouter(connection: connection, links: links, limits: limits, peerLog: peerLog)
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
