import Logging
import NIOConcurrencyHelpers
import NIOCore
import Wire

/// An authenticated link from one business-worker process, and the client events it has not yet
/// acknowledged.
///
/// Events are queued under a lock, so their order on the wire is the order they were accepted in,
/// whichever event loop they came from; one task per loop tick writes them and flushes. Each written
/// event stays held until the worker's cumulative acknowledgement covers it. When the link ends,
/// everything held is handed back to the clients' routers, which send it to another worker, except
/// the events the worker named as handled beyond its count (it handles several clients' events at
/// once, so a later one can end first): those were handled and stay held only until the count covers them.
///
/// A worker that falls behind by `maxBacklogBytes` of held events is sent nothing more until its
/// acknowledgements bring that under half: clients' new events wait at their routers meanwhile
/// (bounded per client), so a slow worker cannot grow the gateway's memory and nothing is dropped.
final class WorkerLink: Sendable, CustomStringConvertible {
    /// Unique within this gateway process, for logs and routing tables.
    let id: Int
    /// The worker's own name for itself (`name:id`), from its hello.
    let workerKey: String
    /// The index of the gateway event loop that holds the link (see ``EventLoopLanes``).
    let lane: Int
    let channel: Channel
    /// The largest frame this link carries.
    let maxFrameSize: Int
    private let maxBacklogBytes: Int
    private let logger: Logger
    /// The link's frame encoder, written to directly: no `NIOAny` box per event. Nil for a channel
    /// without one (tests reading the frames back), which gets its frames through the pipeline.
    private let frameEncoder: NIOLoopBound<GatewayFrameEncoder>?
    private let state = NIOLockedValueBox(State())
    /// The array the next drain swaps in for the events it takes, so a steady link's queue never
    /// reallocates. Used on the link's loop only.
    private let spareBatch: NIOLoopBoundBox<[Event]>

    /// A client event and the router of the client it is about.
    struct Event {
        var routed: RoutedEvent
        let router: ClientEventRouter
        /// Named handled by an acknowledgement ahead of its count: never redelivered.
        var isHandled = false
    }

    /// What became of an event offered to the link.
    enum SendOutcome {
        case sent
        /// The worker is behind: offer it again after ``whenReady(_:)`` wakes you.
        case full
        /// The worker is leaving or gone: wait with ``whenReady(_:)`` for its events to be handed back.
        case gone
    }

    private struct State {
        var isAccepting = true
        var isHandedBack = false
        var isFull = false
        var unwritten: [Event] = []
        var drainScheduled = false
        var unacknowledged = CircularBuffer<Event>()
        var acknowledgedCount: UInt64 = 0
        var backlogBytes = 0
        var waiters: [@Sendable () -> Void] = []
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
    init(
        id: Int,
        workerKey: String,
        lane: Int = 0,
        channel: Channel,
        routable: Bool,
        maxBacklogBytes: Int,
        maxFrameSize: Int = GatewayFrameDecoder.defaultMaximumFrameLength,
        frameEncoder: NIOLoopBound<GatewayFrameEncoder>? = nil,
        logger: Logger
    ) {
        self.id = id
        self.workerKey = workerKey
        self.lane = lane
        self.channel = channel
        self.maxFrameSize = maxFrameSize
        self.maxBacklogBytes = maxBacklogBytes
        self.logger = logger
        self.frameEncoder = frameEncoder
        self.spareBatch = NIOLoopBoundBox.makeBoxSendingValue([], eventLoop: channel.eventLoop)
        self.state.withLockedValue { $0.isAccepting = routable }
    }

    /// False once the worker is leaving or the link is gone: route no new client here.
    var isRoutable: Bool { state.withLockedValue { $0.isAccepting } }

    /// Queues a client event from any thread.
    func send(_ event: RoutedEvent, from router: ClientEventRouter) -> SendOutcome {
        let maxBacklogBytes = self.maxBacklogBytes
        let length = event.frame.encodedLength
        let (outcome, mustSchedule, becameFull) = state.withLockedValue { state -> (SendOutcome, Bool, Bool) in
            guard state.isAccepting else { return (.gone, false, false) }
            // One event always fits an empty backlog, however large, so nothing can be stuck forever.
            guard !state.isFull, state.backlogBytes == 0 || state.backlogBytes + length <= maxBacklogBytes else {
                defer { state.isFull = true }
                return (.full, false, !state.isFull)
            }
            state.backlogBytes += length
            state.unwritten.append(Event(routed: event, router: router))
            defer { state.drainScheduled = true }
            return (.sent, !state.drainScheduled, false)
        }
        if becameFull {
            logger.warning(
                "worker is behind: \(maxBacklogBytes) bytes of events unacknowledged; its clients' new events wait until it catches up",
                metadata: ["worker": "\(self)"]
            )
        }
        if mustSchedule { channel.eventLoop.execute { self.drain() } }
        if outcome == .sent, router.eventLoop !== channel.eventLoop { router.connection.counters.add(.crossLoopEvents) }
        return outcome
    }

    /// Runs `wake` once the link has room again or has handed its events back (now, if it has).
    func whenReady(_ wake: @escaping @Sendable () -> Void) {
        let now = state.withLockedValue { state in
            let ready = state.isHandedBack || (state.isAccepting && !state.isFull)
            if !ready { state.waiters.append(wake) }
            return ready
        }
        if now { wake() }
    }

    /// Client events accepted and not yet acknowledged, written or not, for the statistics.
    var heldEventCount: Int { state.withLockedValue { $0.unwritten.count + $0.unacknowledged.count } }

    /// True once the events of a gone link have been handed back to their routers.
    var isHandedBack: Bool { state.withLockedValue { $0.isHandedBack } }

    /// Writes the queued events in order and flushes. Runs on the link's loop.
    private func drain() {
        var batch = spareBatch.value
        spareBatch.value = []  // `batch` alone holds its storage: no copy on the appends to come
        state.withLockedValue { state in
            state.drainScheduled = false
            state.unacknowledged.append(contentsOf: state.unwritten)
            swap(&batch, &state.unwritten)
        }
        if !batch.isEmpty {
            if let encoder = frameEncoder?.value {
                for event in batch { encoder.enqueue(event.routed.frame) }
            } else {
                for event in batch { channel.write(event.routed.frame, promise: nil) }
            }
            channel.flush()
        }
        batch.removeAll(keepingCapacity: true)
        spareBatch.value = batch
    }

    /// Sends the answer to the oldest unanswered query of this link. Runs on the link's loop.
    /// The caller makes sure it fits in ``maxFrameSize``.
    func answer(_ body: ByteBuffer) {
        channel.writeAndFlush(GatewayFrame(command: .queryResult, body: body), promise: nil)
    }

    /// Sends a frame that is not a client event (no acknowledgement expected), from any thread;
    /// false (nothing sent) while the worker leaves more than the link's write buffer unread.
    func relay(_ frame: GatewayFrame) -> Bool {
        guard channel.isWritable else { return false }
        channel.writeAndFlush(frame, promise: nil)
        return true
    }

    /// Releases the events a cumulative acknowledgement of `count` covers, and marks handled those
    /// at the positions `handledBeyond` (counted from the link's first event, each at or past `count`).
    func acknowledge(_ count: UInt64, handledBeyond: [UInt64] = []) throws {
        let maxBacklogBytes = self.maxBacklogBytes
        let waiters = try state.withLockedValue { state -> [@Sendable () -> Void] in
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
            for _ in 0..<newlyAcknowledged {
                state.backlogBytes -= state.unacknowledged.removeFirst().routed.frame.encodedLength
            }
            state.acknowledgedCount = count
            for position in handledBeyond {
                guard position >= count, position - count < UInt64(state.unacknowledged.count) else {
                    throw AcknowledgementError.beyondSent(
                        acknowledged: position + 1,
                        sent: state.acknowledgedCount + UInt64(state.unacknowledged.count)
                    )
                }
                state.unacknowledged[state.unacknowledged.index(state.unacknowledged.startIndex, offsetBy: Int(position - count))].isHandled = true
            }
            guard state.isFull, state.backlogBytes <= maxBacklogBytes / 2 else { return [] }
            state.isFull = false
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        guard !waiters.isEmpty else { return }
        logger.notice("worker caught up", metadata: ["worker": "\(self)"])
        for wake in waiters { wake() }
    }

    /// The worker is leaving: takes no new events, writes what it accepted, then the last frame.
    func stopAccepting() {
        state.withLockedValue { $0.isAccepting = false }
        drain()
        channel.writeAndFlush(GatewayFrame(command: .leaveAccepted), promise: nil)
    }

    /// The link ended: hands every event the worker did not acknowledge (by count or by position) back to its client's router,
    /// in order; one that was written is marked redelivered and counts one more failed delivery.
    /// Runs on the link's loop, once.
    func handBack() -> Int {
        let (written, unwritten) = state.withLockedValue { state in
            state.isAccepting = false
            defer {
                state.unacknowledged.removeAll()
                state.unwritten.removeAll()
                state.backlogBytes = 0
            }
            return (state.unacknowledged.filter { !$0.isHandled }, state.unwritten)
        }
        var byRouter: [ObjectIdentifier: (ClientEventRouter, [RoutedEvent])] = [:]
        for (event, wasWritten) in written.map({ ($0, true) }) + unwritten.map({ ($0, false) }) {
            var routed = event.routed
            if wasWritten {
                routed.frame.flags.insert(.redelivered)
                routed.failedDeliveries += 1
            }
            byRouter[ObjectIdentifier(event.router), default: (event.router, [])].1.append(routed)
        }
        for (router, events) in byRouter.values {
            router.eventLoop.execute { router.takeBack(events) }
        }
        // Waiters wake only now, so their wake-up task queues behind the hand-back on their loop.
        let waiters = state.withLockedValue { state in
            state.isHandedBack = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for wake in waiters { wake() }
        return written.count + unwritten.count
    }

    var description: String {
        lane == 0 ? "\(workerKey)#\(id)" : "\(workerKey)#\(id)@loop\(lane)"
    }
}
