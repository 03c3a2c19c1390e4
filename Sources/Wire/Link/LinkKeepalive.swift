import NIOCore

/// Keeps a gateway link known to be alive from one end: every ``Policy/interval`` it sends a
/// ``GatewayCommand/ping`` frame, and it declares the peer dead after ``Policy/missedLimit`` intervals
/// in a row without a single frame from it. Both ends run one, so a peer that vanishes without a TCP
/// reset (power cut, cable, partition, a frozen process) is noticed within about
/// `interval × missedLimit`, where TCP alone would wait minutes.
///
/// Lives on the link's event loop; the link handler calls ``heard()`` for every frame it reads (a
/// store, nothing more), so the hot path pays nothing else.
public final class LinkKeepalive {
    /// How often to ping and how many silent intervals mean dead.
    public struct Policy: Sendable, Equatable {
        public var interval: TimeAmount
        public var missedLimit: Int

        /// Every second; dead after 3 silent seconds.
        public init(interval: TimeAmount = .seconds(1), missedLimit: Int = 3) {
            self.interval = interval
            self.missedLimit = missedLimit
        }

        /// True when pings go out at all (a zero interval turns keepalive off).
        public var isEnabled: Bool { interval > .zero && missedLimit > 0 }

        /// How long a silent peer takes to be declared dead, for messages.
        public var deadAfter: TimeAmount { .nanoseconds(interval.nanoseconds * Int64(missedLimit)) }
    }

    public let policy: Policy
    private var heardSinceTick = true
    private var silentTicks = 0
    private var next: Scheduled<Void>?

    public init(policy: Policy) {
        self.policy = policy
    }

    /// Starts pinging on `context`'s channel; `onDead` runs once, on the loop, when the peer has been
    /// silent too long (the caller closes the link).
    public func start(context: ChannelHandlerContext, onDead: @escaping () -> Void) {
        guard policy.isEnabled, next == nil else { return }
        schedule(context: context, onDead: onDead)
    }

    /// The peer sent something.
    @inline(__always)
    public func heard() {
        heardSinceTick = true
    }

    /// Stops pinging (the link closed).
    public func stop() {
        next?.cancel()
        next = nil
    }

    private func schedule(context: ChannelHandlerContext, onDead: @escaping () -> Void) {
        next = context.eventLoop.assumeIsolated().scheduleTask(in: policy.interval) {
            self.tick(context: context, onDead: onDead)
        }
    }

    private func tick(context: ChannelHandlerContext, onDead: @escaping () -> Void) {
        silentTicks = heardSinceTick ? 0 : silentTicks + 1
        heardSinceTick = false
        guard silentTicks < policy.missedLimit else {
            next = nil
            onDead()
            return
        }
        context.writeAndFlush(NIOAny(GatewayFrame(command: .ping)), promise: nil)
        schedule(context: context, onDead: onDead)
    }
}

@available(*, unavailable)
extension LinkKeepalive: Sendable {}
