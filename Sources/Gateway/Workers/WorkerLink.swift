import NIOConcurrencyHelpers
import NIOCore
import Wire

/// An authenticated link from one business-worker process, and the client events it has not yet
/// acknowledged.
///
/// Events are queued under a lock, so their order on the wire is the order they were accepted in,
/// whichever event loop they came from; one task per loop tick writes them and flushes. Each written
/// event stays held until the worker's cumulative acknowledgement covers it. When the link ends,
/// everything held is handed back to the clients' routers, which send it to another worker.
final class WorkerLink: Sendable, CustomStringConvertible {
    /// Unique within this gateway process, for logs and routing tables.
    let id: Int
    /// The worker's own name for itself (`name:id`), from its hello.
    let workerKey: String
    let channel: Channel
    private let state = NIOLockedValueBox(State())

    /// A client event and the router of the client it is about.
    struct Event {
        var frame: GatewayFrame
        let router: ClientEventRouter
    }

    private struct State {
        var isAccepting = true
        var isHandedBack = false
        var unwritten: [Event] = []
        var drainScheduled = false
        var unacknowledged = CircularBuffer<Event>()
        var acknowledgedCount: UInt64 = 0
        var handBackWaiters: [@Sendable () -> Void] = []
    }

    /// Why an acknowledgement is refused.
    enum AcknowledgementError: Error, CustomStringConvertible {
        case beyondSent(acknowledged: UInt64, sent: UInt64)
        case backwards(acknowledged: UInt64, previously: UInt64)

        var description: String {
            switch self {
            case .beyondSent(let acknowledged, let sent):
                return "worker acknowledged \(acknowledged) events but only \(sent) were sent"
            case .backwards(let acknowledged, let previously):
                return "worker acknowledged \(acknowledged) events after acknowledging \(previously)"
            }
        }
    }

    /// - Parameter routable: false for a gateway client (a service pushing commands), which takes no events.
    init(id: Int, workerKey: String, channel: Channel, routable: Bool) {
        self.id = id
        self.workerKey = workerKey
        self.channel = channel
        self.state.withLockedValue { $0.isAccepting = routable }
    }

    /// False once the worker is leaving or the link is gone: route nothing new here.
    var isRoutable: Bool { state.withLockedValue { $0.isAccepting } }

    /// Queues a client event from any thread; false when the link no longer takes events.
    func send(_ frame: GatewayFrame, from router: ClientEventRouter) -> Bool {
        let mustSchedule = state.withLockedValue { state -> Bool? in
            guard state.isAccepting else { return nil }
            state.unwritten.append(Event(frame: frame, router: router))
            defer { state.drainScheduled = true }
            return !state.drainScheduled
        }
        guard let mustSchedule else { return false }
        if mustSchedule { channel.eventLoop.execute { self.drain() } }
        return true
    }

    /// Writes the queued events in order and flushes. Runs on the link's loop.
    private func drain() {
        let batch = state.withLockedValue { state in
            defer {
                state.unwritten.removeAll(keepingCapacity: true)
                state.drainScheduled = false
            }
            state.unacknowledged.append(contentsOf: state.unwritten)
            return state.unwritten
        }
        guard !batch.isEmpty else { return }
        for event in batch { channel.write(event.frame, promise: nil) }
        channel.flush()
    }

    /// Sends the answer to the oldest unanswered query of this link. Runs on the link's loop.
    func answer(_ body: ByteBuffer) {
        channel.writeAndFlush(GatewayFrame(command: .queryResult, body: body), promise: nil)
    }

    /// Sends a frame that is not a client event (no acknowledgement expected), from any thread.
    func relay(_ frame: GatewayFrame) {
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Releases the events a cumulative acknowledgement of `count` covers.
    func acknowledge(_ count: UInt64) throws {
        try state.withLockedValue { state in
            guard count >= state.acknowledgedCount else {
                throw AcknowledgementError.backwards(acknowledged: count, previously: state.acknowledgedCount)
            }
            let newlyAcknowledged = count - state.acknowledgedCount
            guard newlyAcknowledged <= UInt64(state.unacknowledged.count) else {
                throw AcknowledgementError.beyondSent(
                    acknowledged: count,
                    sent: state.acknowledgedCount + UInt64(state.unacknowledged.count)
                )
            }
            state.unacknowledged.removeFirst(Int(newlyAcknowledged))
            state.acknowledgedCount = count
        }
    }

    /// The worker is leaving: takes no new events, writes what it accepted, then the last frame.
    func stopAccepting() {
        state.withLockedValue { $0.isAccepting = false }
        drain()
        channel.writeAndFlush(GatewayFrame(command: .leaveAccepted), promise: nil)
    }

    /// The link ended: hands every event the worker did not acknowledge back to its client's router,
    /// in order, marked redelivered if it was written. Runs on the link's loop, once.
    func handBack() -> Int {
        let (written, unwritten) = state.withLockedValue { state in
            state.isAccepting = false
            defer {
                state.unacknowledged.removeAll()
                state.unwritten.removeAll()
            }
            return (Array(state.unacknowledged), state.unwritten)
        }
        var byRouter: [ObjectIdentifier: (ClientEventRouter, [GatewayFrame])] = [:]
        for (event, wasWritten) in written.map({ ($0, true) }) + unwritten.map({ ($0, false) }) {
            var frame = event.frame
            if wasWritten { frame.flags.insert(.redelivered) }
            byRouter[ObjectIdentifier(event.router), default: (event.router, [])].1.append(frame)
        }
        for (router, frames) in byRouter.values {
            router.eventLoop.execute { router.takeBack(frames) }
        }
        // Waiters wake only now, so their wake-up task queues behind the hand-back on their loop.
        let waiters = state.withLockedValue { state in
            state.isHandedBack = true
            defer { state.handBackWaiters.removeAll() }
            return state.handBackWaiters
        }
        for wake in waiters { wake() }
        return written.count + unwritten.count
    }

    /// Runs `wake` once this link's events have been handed back (now, if they have been).
    func whenHandedBack(_ wake: @escaping @Sendable () -> Void) {
        let now = state.withLockedValue { state in
            if !state.isHandedBack { state.handBackWaiters.append(wake) }
            return state.isHandedBack
        }
        if now { wake() }
    }

    var description: String {
        "\(workerKey)#\(id)"
    }
}
