import NIOCore
import Wire

/// One established connection of a ``GatewayLink``: sends frames, pairs query answers with their
/// queries (answers come in query order), and acknowledges the client events handled from it.
///
/// Every flush carries an acknowledgement of all events handled so far, written after the replies
/// those events produced (as the last reply's trailer, to a gateway that reads them, else as a frame
/// of its own): replies and the acknowledgement that covers them leave together, so a worker
/// killed between two flushes loses both and the gateway redelivers, and only an event whose handler
/// was running at the kill can have its reply sent twice. A worker that handles several clients'
/// events at once acknowledges the handled prefix by count and each event handled past it by its
/// position, so an event handled while an earlier one still runs is not redelivered either.
package final class GatewaySession: Sendable {
    /// Queries that may wait for answers at once on one link. A query that timed out keeps its place
    /// until its answer comes (answers pair up by order) or the link closes (the keepalive closes a
    /// silent one within seconds), so this bounds the queue whatever the callers do.
    package static let maxPendingQueries = 4096

    package let address: GatewayAddress
    package let channel: Channel
    /// The largest frame the link carries; a larger one is refused before it is written.
    package let maxFrameSize: Int
    /// The link's frame encoder, written to directly: no `NIOAny` box per frame.
    private let frameEncoder: NIOLoopBound<GatewayFrameEncoder>
    private let state: NIOLoopBoundBox<State>

    private struct State {
        /// Client events received on this link: the next one's position.
        var receivedEvents: UInt64 = 0
        /// Every event before this position is handled.
        var handledEvents: UInt64 = 0
        /// Positions past `handledEvents` that are handled, and those of them the gateway was not told of yet.
        var handledBeyond: Set<UInt64> = []
        var unacknowledgedBeyond: [UInt64] = []
        var acknowledgedEvents: UInt64 = 0
        /// The gateway accepted the worker's leave: close once every received event is handled.
        var isLeaving = false
        var flushScheduled = false
        var pendingQueries = CircularBuffer<EventLoopPromise<ByteBuffer>>()
        /// Every acknowledgement's body, written again for each (see ``writeAcknowledgement()``).
        var acknowledgementBody = ByteBuffer()
        /// The gateway reads an acknowledgement carried as the trailer of the flush's last frame.
        var gatewayReadsTrailers = false
    }

    /// Call on the channel's loop; `frameEncoder` is the one in the channel's pipeline.
    package init(address: GatewayAddress, channel: Channel, maxFrameSize: Int, frameEncoder: GatewayFrameEncoder) {
        self.address = address
        self.channel = channel
        self.maxFrameSize = maxFrameSize
        self.frameEncoder = NIOLoopBound(frameEncoder, eventLoop: channel.eventLoop)
        self.state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: channel.eventLoop)
        channel.closeFuture.whenComplete { _ in self.failPendingQueries() }
    }

    /// Takes in what the gateway's handshake answer offers. Runs on the session's loop, before any
    /// event from the gateway is handled.
    package func gatewayAccepted(_ result: HandshakeResult) {
        state.value.gatewayReadsTrailers = result.acknowledgementTrailers == true
    }

    /// Sends a query and waits for its answer, at most `timeout`.
    package func query(_ frame: GatewayFrame, timeout: TimeAmount) async throws -> ByteBuffer {
        try checkSize(frame)
        let answer = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let address = self.address
        onLoop {
            guard self.channel.isActive else {
                answer.fail(ClusterAPIError.gatewayNotLinked(address))
                return
            }
            guard self.state.value.pendingQueries.count < Self.maxPendingQueries else {
                answer.fail(ClusterAPIError.tooManyPendingQueries(address, limit: Self.maxPendingQueries))
                return
            }
            // A query that times out keeps its place in the queue, so later answers still pair up.
            self.state.value.pendingQueries.append(answer)
            self.frameEncoder.value.enqueue(frame)
            self.scheduleFlush()
            let deadline = self.channel.eventLoop.scheduleTask(in: timeout) {
                answer.fail(ClusterAPIError.timedOut(address, after: "\(timeout)"))
            }
            answer.futureResult.whenComplete { _ in deadline.cancel() }
        }
        return try await answer.futureResult.get()
    }

    /// Pairs an answer with the oldest unanswered query. Runs on the session's loop.
    package func answerReceived(_ body: ByteBuffer) {
        state.value.pendingQueries.popFirst()?.succeed(body)
    }

    private func failPendingQueries() {
        while let pending = state.value.pendingQueries.popFirst() {
            pending.fail(ClusterAPIError.gatewayNotLinked(address))
        }
    }

    /// Queues `frame`; flushed once per tick of the session's loop. Throws
    /// ``ClusterAPIError/frameTooLarge(_:length:maximum:)`` for a frame the link cannot carry, which
    /// would otherwise break the link for every other call.
    package func send(_ frame: GatewayFrame) throws {
        try checkSize(frame)
        // Most sends come from a handler running on the link's own loop: no task and no closure then.
        guard channel.eventLoop.inEventLoop else {
            channel.eventLoop.execute { self.queue(frame) }
            return
        }
        queue(frame)
    }

    private func queue(_ frame: GatewayFrame) {
        frameEncoder.value.enqueue(frame)
        scheduleFlush()
    }

    /// Gives a client event received from this session its position, to name it in
    /// ``eventHandled(_:)``. Runs on the session's loop, in the order the events arrived.
    package func eventReceived() -> UInt64 {
        defer { state.value.receivedEvents += 1 }
        return state.value.receivedEvents
    }

    /// Counts the client event at `position` as handled, after the replies it queued.
    package func eventHandled(_ position: UInt64) {
        // Called on the session's loop in a worker: no closure then.
        guard channel.eventLoop.inEventLoop else {
            channel.eventLoop.execute { self.eventHandled(position) }
            return
        }
        if position == state.value.handledEvents {
            state.value.handledEvents += 1
            while state.value.handledBeyond.remove(state.value.handledEvents) != nil {
                state.value.handledEvents += 1
            }
        } else {
            state.value.handledBeyond.insert(position)
            state.value.unacknowledgedBeyond.append(position)
        }
        scheduleFlush()
        if state.value.isLeaving { closeIfAllHandled() }
    }

    /// The end of a graceful leave: once every event received is handled, acknowledges them all and
    /// closes.
    package func finish() {
        onLoop {
            self.state.value.isLeaving = true
            self.closeIfAllHandled()
        }
    }

    private func closeIfAllHandled() {
        guard state.value.handledEvents == state.value.receivedEvents else { return }
        writeAcknowledgement()
        channel.flush()
        channel.close(promise: nil)
    }

    private func checkSize(_ frame: GatewayFrame) throws {
        guard frame.encodedLength <= maxFrameSize else {
            throw ClusterAPIError.frameTooLarge(frame.command, length: frame.encodedLength, maximum: maxFrameSize)
        }
    }

    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if channel.eventLoop.inEventLoop { body() } else { channel.eventLoop.execute(body) }
    }

    private func scheduleFlush() {
        guard !state.value.flushScheduled else { return }
        state.value.flushScheduled = true
        channel.eventLoop.execute {
            self.state.value.flushScheduled = false
            self.writeAcknowledgement()
            self.channel.flush()
        }
    }

    private func writeAcknowledgement() {
        let handled = state.value.handledEvents
        var beyond: [UInt64] = []
        if !state.value.unacknowledgedBeyond.isEmpty {
            beyond = state.value.unacknowledgedBeyond.filter { $0 >= handled }
            state.value.unacknowledgedBeyond.removeAll(keepingCapacity: true)
        }
        guard handled != state.value.acknowledgedEvents || !beyond.isEmpty else { return }
        state.value.acknowledgedEvents = handled
        // Riding on the last reply saves the gateway a frame per flush; positions need a frame of their own.
        if beyond.isEmpty, state.value.gatewayReadsTrailers,
            frameEncoder.value.appendAcknowledgementToLastFrame(handledEvents: handled)
        {
            return
        }
        GatewayFrame.writeAcknowledgementBody(handledEvents: handled, handledBeyond: beyond, into: &state.value.acknowledgementBody)
        // The encoder copies the body into its batch: once this frame is gone the buffer is ours alone again.
        frameEncoder.value.enqueue(GatewayFrame(command: .acknowledge, body: state.value.acknowledgementBody))
    }
}
