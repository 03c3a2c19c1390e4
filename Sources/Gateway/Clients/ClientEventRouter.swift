import Logging
import NIOCore
import Wire

/// Sends one client's events to workers, in order, exactly once each as far as the gateway can tell.
///
/// Events stick to the worker that took the client's first event (unless the routing is random, when
/// each event picks anew). When that worker leaves or its
/// link breaks, the client's new events wait until the link has handed back what the worker never
/// acknowledged; those go first, to another worker. With no worker linked, events wait here
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
        var waiting = CircularBuffer<GatewayFrame>()
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

    /// Sends a new event of this client. Call on the client's loop.
    func forward(_ event: GatewayFrame) {
        if state.value.waiting.isEmpty, let worker = state.value.worker, worker.send(event, from: self) {
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
        for event in events.reversed() { state.value.waiting.prepend(event) }
        sendWaiting()
    }

    private func sendWaiting() {
        guard !state.value.isAwaitingWake, !state.value.waiting.isEmpty else { return }
        if let worker = state.value.worker {
            if links.routing == .random {
                sendOneAtRandom(worker)
                return
            }
            while let event = state.value.waiting.first, worker.send(event, from: self) {
                state.value.waiting.removeFirst()
            }
            guard !state.value.waiting.isEmpty else { return }
            // The worker is going: wait for its unacknowledged events to come back before moving on.
            state.value.isAwaitingWake = true
            worker.whenHandedBack { self.eventLoop.execute { self.moveOn(from: worker) } }
            return
        }
        guard let next = links.pickOrWait({ self.eventLoop.execute { self.wake() } }) else {
            state.value.isAwaitingWake = true
            return
        }
        state.value.worker = next
        sendWaiting()
    }

    /// Random routing: sends the oldest waiting event to `worker`, then picks again for the next.
    private func sendOneAtRandom(_ worker: WorkerLink) {
        guard let event = state.value.waiting.first else { return }
        guard worker.send(event, from: self) else {
            state.value.isAwaitingWake = true
            worker.whenHandedBack { self.eventLoop.execute { self.moveOn(from: worker) } }
            return
        }
        state.value.waiting.removeFirst()
        state.value.worker = nil
        sendWaiting()
    }

    /// The client is gone and its close event forwarded: it no longer counts against its worker.
    func clientClosed() {
        if let worker = state.value.worker { links.detach(worker) }
    }

    private func moveOn(from worker: WorkerLink) {
        if state.value.worker === worker { state.value.worker = nil }
        wake()
    }

    private func wake() {
        state.value.isAwaitingWake = false
        sendWaiting()
    }
}
