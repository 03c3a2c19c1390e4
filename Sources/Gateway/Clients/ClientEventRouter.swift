import ClusterLogging
import NIOCore
import NIOWebSocket
import Wire

/// Sends one client's events to workers, in order, exactly once each as far as the gateway can tell.
///
/// Events stick to the worker that took the client's first event (unless the routing is random, when
/// each event picks anew). When that worker is behind, new events wait here until it has room. When it
/// leaves or its link breaks, new events wait until the link has handed back what the worker never
/// acknowledged; those go first, to another worker. With no worker linked, events wait here too
/// (bounded: past the limit the client is closed with 1013, and what waits is still delivered).
/// An event that no link can carry, or whose delivery broke too many links, is not handed out
/// (again): its client is closed with 1011, and the event logged (client id and size, never its
/// payload) and counted, so one client's input cannot stall others' events over and over.
/// All state lives on the client's event loop.
final class ClientEventRouter: Sendable {
    /// Bounds on one client's events.
    struct Limits: Sendable {
        /// Events a client may have waiting for a worker; past that it is closed with 1013.
        var maxWaitingEvents = 1024
        /// Bytes of events a client may have waiting for a worker (one event always fits); past that
        /// it is closed with 1013.
        var maxWaitingBytes = 8 << 20
        /// Worker links that may break while holding one event unacknowledged before it is dropped.
        var maxDeliveryFailures = 3
        /// The largest event frame a worker link carries.
        var maxEventFrameSize = GatewayFrameDecoder.defaultMaximumFrameLength
    }

    let connection: ClientConnection
    private let links: WorkerLinkTable
    private let limits: Limits
    private let peerLog: RateLimitedLog
    private let state: NIOLoopBoundBox<State>

    private struct State {
        var worker: WorkerLink?
        // An array, not a CircularBuffer: that one allocates room for 16 events up front, per client.
        var waiting: [RoutedEvent] = []
        var waitingBytes = 0
        var isAwaitingWake = false
    }

    init(connection: ClientConnection, links: WorkerLinkTable, limits: Limits, peerLog: RateLimitedLog) {
        self.connection = connection
        self.links = links
        self.limits = limits
        self.peerLog = peerLog
        self.state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: connection.eventLoop)
    }

    var eventLoop: EventLoop { connection.eventLoop }

    /// The client is gone and its close event forwarded: it no longer counts against its worker.
    func detachFromWorker() {
        if let worker = state.value.worker { links.detach(worker) }
    }

    /// Sends a new event of this client. Call on the client's loop.
    func forward(_ frame: GatewayFrame) {
        guard frame.encodedLength <= limits.maxEventFrameSize else {
            // Only a session grown past what the start-up check reserved for it gets here.
            return drop(RoutedEvent(frame: frame), because: "larger than a worker link carries (\(limits.maxEventFrameSize) bytes)")
        }
        let event = RoutedEvent(frame: frame)
        if state.value.waiting.isEmpty, links.routing != .random, let worker = state.value.worker,
            worker.send(event, from: self) == .sent
        {
            return
        }
        state.value.waiting.append(event)
        connection.counters.add(.eventsWaitingForWorker)
        state.value.waitingBytes += frame.encodedLength
        // One event always fits, however large.
        let overBytes = state.value.waitingBytes > limits.maxWaitingBytes && state.value.waiting.count > 1
        if state.value.waiting.count > limits.maxWaitingEvents || overBytes, !connection.isClosing {
            peerLog.log(
                .warning,
                "closing client with 1013",
                "more than \(limits.maxWaitingEvents) events or \(limits.maxWaitingBytes) bytes are waiting for a worker",
                metadata: ["client": "\(frame.clientID)"]
            )
            connection.close(code: .unknown(1013), reason: "too many events waiting")
        }
        sendWaiting()
    }

    /// Takes back events a worker link could not deliver; they are older than anything waiting.
    /// Those whose delivery has now broken too many links are dropped.
    func takeBack(_ events: [RoutedEvent]) {
        var events = events
        let limit = limits.maxDeliveryFailures
        if events.contains(where: { $0.failedDeliveries >= limit }) {
            for poison in events where poison.failedDeliveries >= limit {
                drop(poison, because: "its delivery broke \(poison.failedDeliveries) worker links")
            }
            events.removeAll { $0.failedDeliveries >= limit }
        }
        state.value.waiting.insert(contentsOf: events, at: 0)
        connection.counters.add(.eventsWaitingForWorker, events.count)
        state.value.waitingBytes += events.reduce(0) { $0 + $1.frame.encodedLength }
        sendWaiting()
    }

    /// Drops an event that must not go to a worker, closes its client with 1011, logs and counts it.
    private func drop(_ event: RoutedEvent, because reason: String) {
        connection.counters.add(.poisonEvents)
        peerLog.log(
            .error,
            "dropped a client event, closing its client with 1011",
            "\(event.frame.command) \(reason)",
            metadata: ["client": "\(event.frame.clientID)", "bytes": "\(event.frame.encodedLength)"]
        )
        if !connection.isClosing { connection.close(code: .unexpectedServerError) }
    }

    private func sendWaiting() {
        while !state.value.isAwaitingWake, let event = state.value.waiting.first {
            guard let worker = state.value.worker ?? pickWorker() else { return }
            switch worker.send(event, from: self) {
            case .sent:
                state.value.waitingBytes -= state.value.waiting.removeFirst().frame.encodedLength
                connection.counters.add(.eventsWaitingForWorker, -1)
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
        guard let next = links.pickOrWait(near: eventLoop, { self.eventLoop.execute { self.wake(after: nil) } }) else {
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
