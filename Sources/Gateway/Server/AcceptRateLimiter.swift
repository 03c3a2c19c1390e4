import NIOCore

/// Caps how fast a listener accepts connections by holding back the listener's reads: connections
/// beyond the rate wait in the kernel's accept backlog instead of all arriving at once, so a fleet
/// reconnecting after a restart is taken in at a pace the gateway and the workers behind it can
/// authenticate, and none of it times out in a queue inside the process.
///
/// The rate is kept as a virtual schedule (GCRA, the token bucket in whole nanoseconds): each accepted
/// connection moves `due` one interval on; a read may go while `due` is at most `burst - 1` intervals
/// ahead. One accept read may take a few connections (`maxMessagesPerRead`); `due` then runs further
/// ahead and the next read waits longer, so the average rate holds.
final class AcceptRateLimiter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel
    typealias OutboundIn = Never

    private let interval: TimeAmount
    private let allowance: TimeAmount
    private var due: NIODeadline
    private var delayedRead: Scheduled<Void>?

    /// - Parameters:
    ///   - perSecond: accepts per second on average, at least 1.
    ///   - burst: accepts allowed at once after a quiet spell (default: one second's worth).
    ///   - now: the listener's event loop's clock (`EventLoop.now`).
    init(perSecond: Int, burst: Int? = nil, now: NIODeadline) {
        precondition(perSecond > 0, "an accept rate is at least 1 per second")
        interval = .nanoseconds(1_000_000_000 / Int64(perSecond))
        allowance = interval * (max(1, burst ?? perSecond) - 1)
        due = now
    }

    func read(context: ChannelHandlerContext) {
        let wait = due - allowance - context.eventLoop.now
        if wait <= .zero {
            context.read()
            return
        }
        guard delayedRead == nil else { return }
        delayedRead = context.eventLoop.assumeIsolated().scheduleTask(in: wait) {
            self.delayedRead = nil
            self.read(context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        due = max(due, context.eventLoop.now) + interval
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        delayedRead?.cancel()
        delayedRead = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        delayedRead?.cancel()
        delayedRead = nil
    }
}
