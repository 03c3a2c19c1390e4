import NIOCore

/// GatewayWorker's application heartbeat (`pingInterval`, `pingNotResponseLimit`, `pingData`) for
/// the clients of one event loop: one repeated task per loop walks its clients, so an idle client
/// costs a table entry and a counter, not a timer of its own.
///
/// With a limit, the task ticks every half interval and a client's silence is counted in ticks
/// (reset by anything it sends); one that has been silent for more than `limit * pingInterval` is
/// destroyed, at most half an interval later. `pingData` goes to every client every interval as a
/// text message.
final class ClientHeartbeat: Sendable {
    /// The heartbeat's settings; nil when it has nothing to do.
    struct Policy: Sendable {
        let tickInterval: TimeAmount
        /// Ticks of silence after which a client is destroyed; nil never destroys.
        let silentTickLimit: Int?
        /// Ticks between two pings; the ping itself, nil sending none.
        let ticksPerPing: Int
        let ping: ClientOutbound.Message?

        init?(interval: TimeAmount, notResponseLimit: Int, pingData: String) {
            guard interval > .zero, notResponseLimit > 0 || !pingData.isEmpty else { return nil }
            let halves = notResponseLimit > 0
            tickInterval = halves ? .nanoseconds(max(1, interval.nanoseconds / 2)) : interval
            silentTickLimit = halves ? 2 * notResponseLimit : nil
            ticksPerPing = halves ? 2 : 1
            ping = pingData.isEmpty ? nil : ClientOutbound.Message(bytes: ByteBuffer(string: pingData), isBinary: false)
        }
    }

    private let loop: EventLoop
    private let policy: Policy
    private let counters: GatewayCounters.Shard
    private let state: NIOLoopBoundBox<State>

    private struct State {
        var clients: [UInt32: ClientConnection] = [:]
        var ticks = 0
    }

    init(loop: EventLoop, policy: Policy, counters: GatewayCounters.Shard) {
        self.loop = loop
        self.policy = policy
        self.counters = counters
        self.state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: loop)
    }

    /// Starts ticking; the task ends with the loop.
    func start() {
        loop.scheduleRepeatedTask(initialDelay: policy.tickInterval, delay: policy.tickInterval) { _ in self.tick() }
    }

    /// Puts a client of this loop under the heartbeat. Call on the loop.
    func watch(_ connection: ClientConnection) {
        state.value.clients[connection.number] = connection
    }

    /// Takes a client of this loop from the heartbeat. Call on the loop.
    func forget(_ connection: ClientConnection) {
        state.value.clients.removeValue(forKey: connection.number)
    }

    private func tick() {
        state.value.ticks &+= 1
        let ping = state.value.ticks % policy.ticksPerPing == 0 ? policy.ping : nil
        var silent: [ClientConnection] = []
        for connection in state.value.clients.values {
            if let limit = policy.silentTickLimit, connection.countSilentTick() > limit {
                silent.append(connection)
            } else if let ping {
                connection.write(ping)
            }
        }
        // Destroyed clients leave the table, which must not change while it is walked.
        for connection in silent {
            counters.add(.heartbeatTimeouts)
            connection.destroy()
        }
    }
}
