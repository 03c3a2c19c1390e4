import Logging
import NIOCore
import Wire

/// Sends one client's events to workers, in order, exactly once each as far as the gateway can tell.
///
/// Events stick to the worker that took the client's first event (unless the routing is random, when
/// each event picks anew). When that worker is behind, new events wait here until it has room. When it
/// leaves or its link breaks, new events wait until the link has handed back what the worker never
/// acknowledged; those go first, to another worker. With no worker linked, events wait here too
/// (bounded: past the limit the client is closed with 1013, and what waits is still delivered).
/// All state lives on the client's event loop.
final class ClientEventRouter: Sendable {
    let connection: ClientConnection
    private let links: WorkerLinkTable
    private let maxWaitingEvents: Int
    private let logger: Logger
    private let state: NIOLoopBoundBox<State>

    private struct State {
        var worker: WorkerLink?
        // An array, not a CircularBuffer: that one allocates room for 16 frames up front, per client.
        var waiting: [GatewayFrame] = []
        var isAwaitingWake = false
    }

    init(connection: ClientConnection, links: WorkerLinkTable, maxWaitingEvents: Int, logger: Logger) {
        self.connection = connection
        self.links = links
        self.maxWaitingEvents = maxWaitingEvents
        self.logger = logger
        self.state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: connection.eventLoop)
    }

    var eventLoop: EventLoop { connection.eventLoop }

    /// The client is gone and its close event forwarded: it no longer counts against its worker.
    func detachFromWorker() {
        if let worker = state.value.worker { links.detach(worker) }
    }

    /// Sends a new event of this client. Call on the client's loop.
    func forward(_ event: GatewayFrame) {
        if state.value.waiting.isEmpty, links.routing != .random, let worker = state.value.worker,
            worker.send(event, from: self) == .sent
        {
            return
        }
        state.value.waiting.append(event)
        if state.value.waiting.count > maxWaitingEvents, !connection.isClosing {
            logger.warning(
                "closing client: \(maxWaitingEvents) events are waiting for a worker",
                metadata: ["client": "\(connection.number)"]
            )
            connection.close(code: .unknown(1013))
        }
        sendWaiting()
    }

    /// Takes back events a worker link could not deliver; they are older than anything waiting.
    func takeBack(_ events: [GatewayFrame]) {
        state.value.waiting.insert(contentsOf: events, at: 0)
        sendWaiting()
    }

    private func sendWaiting() {
        while !state.value.isAwaitingWake, let event = state.value.waiting.first {
            guard let worker = state.value.worker ?? pickWorker() else { return }
            switch worker.send(event, from: self) {
            case .sent:
                state.value.waiting.removeFirst()
                // With random routing each event picks its own worker.
                if links.routing == .random { state.value.worker = nil }
            case .full, .gone:
                // Wait for room, or, if the worker is going, for its unacknowledged events to come
                // back: they go before anything waiting here.
                state.value.isAwaitingWake = true
                worker.whenReady { self.eventLoop.execute { self.wake(after: worker) } }
            }
        }
    }

    /// A worker for this client, or nil (and a wake-up booked) when none is linked.
    private func pickWorker() -> WorkerLink? {
        guard let next = links.pickOrWait({ self.eventLoop.execute { self.wake(after: nil) } }) else {
            state.value.isAwaitingWake = true
            return nil
        }
        state.value.worker = next
        return next
    }

    /// Woken by `worker` (it has room again, or it is gone and has handed its events back), or by a
    /// worker linking when there was none.
    private func wake(after worker: WorkerLink?) {
        if let worker, worker.isHandedBack, state.value.worker === worker { state.value.worker = nil }
        state.value.isAwaitingWake = false
        sendWaiting()
    }
}
