import NIOCore

/// Caps how fast a listener accepts connections: a token bucket of `perSecond` tokens (holding at most
/// `burst`) that the listener's reads wait for. Connections beyond the rate wait in the kernel's accept
/// backlog instead of all arriving at once, so a fleet reconnecting after a restart is taken in at a
/// pace the gateway and the workers behind it can authenticate, and none of it times out in a queue
/// inside the process. One accept read may take a few connections (`maxMessagesPerRead`); the bucket
/// then goes below zero and the next read waits longer, so the average rate holds.
final class AcceptRateLimiter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel
    typealias OutboundIn = Never

    private let perSecond: Double
    private let burst: Double
    private var tokens: Double
    private var refilledAt: NIODeadline
    private var delayedRead: Scheduled<Void>?

    /// - Parameters:
    ///   - perSecond: accepts per second on average, at least 1.
    ///   - burst: accepts allowed at once after a quiet spell (default: one second's worth).
    init(perSecond: Int, burst: Int? = nil, now: NIODeadline = .now()) {
        precondition(perSecond > 0, "an accept rate is at least 1 per second")
        self.perSecond = Double(perSecond)
        self.burst = Double(max(1, burst ?? perSecond))
        self.tokens = self.burst
        self.refilledAt = now
    }

    func read(context: ChannelHandlerContext) {
        refill(now: .now())
        if tokens >= 1 {
            context.read()
            return
        }
        guard delayedRead == nil else { return }
        let wait = TimeAmount.nanoseconds(Int64((1 - tokens) / perSecond * 1e9))
        delayedRead = context.eventLoop.assumeIsolated().scheduleTask(in: wait) {
            self.delayedRead = nil
            self.read(context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        tokens -= 1
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

    private func refill(now: NIODeadline) {
        let elapsed = Double((now - refilledAt).nanoseconds) / 1e9
        refilledAt = now
        tokens = min(burst, tokens + elapsed * perSecond)
    }
}
