import NIOCore
import Wire

/// One established connection of a ``GatewayLink``: sends frames, and acknowledges the client events
/// handled from it.
///
/// Every flush carries an acknowledgement of all events handled so far, written after the replies
/// those events produced: replies and the acknowledgement that covers them leave together, so a worker
/// killed between two flushes loses both and the gateway redelivers, and only an event whose handler
/// was running at the kill can have its reply sent twice.
final class GatewaySession: Sendable {
    let channel: Channel
    private let state: NIOLoopBoundBox<State>

    private struct State {
        var handledEvents: UInt64 = 0
        var acknowledgedEvents: UInt64 = 0
        var flushScheduled = false
    }

    init(channel: Channel) {
        self.channel = channel
        self.state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: channel.eventLoop)
    }

    /// Queues `frame`; flushed once per tick of the session's loop.
    func send(_ frame: GatewayFrame) {
        onLoop {
            self.channel.write(frame, promise: nil)
            self.scheduleFlush()
        }
    }

    /// Counts one more client event of this session as handled, after the replies it queued.
    func eventHandled() {
        onLoop {
            self.state.value.handledEvents += 1
            self.scheduleFlush()
        }
    }

    /// Acknowledges everything handled, then closes: the end of a graceful leave.
    func finish() {
        onLoop {
            self.writeAcknowledgement()
            self.channel.flush()
            self.channel.close(promise: nil)
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
        guard handled != state.value.acknowledgedEvents else { return }
        state.value.acknowledgedEvents = handled
        channel.write(GatewayFrame.acknowledgement(handledEvents: handled), promise: nil)
    }
}
