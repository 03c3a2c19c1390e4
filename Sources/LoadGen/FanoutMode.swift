import Foundation
import ArgumentParser
import NIOCore

/// `fanout`: N subscribers and one publisher. The publisher keeps a few broadcasts (text starting
/// with `B`, carrying a sequence number and its send time) in flight; one is done when every
/// subscriber got it, or after a timeout. Counts deliveries, their latency, and losses.
struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "Broadcast: one publisher, N subscribers, a few broadcasts in flight."
    )

    @OptionGroup var options: CommonOptions
    @OptionGroup var servers: ServerCounterOptions

    @Option(help: "Broadcasts in flight at once.")
    var inFlight: Int = 4

    @Option(help: "A broadcast not received by every subscriber after this many seconds counts as done (its missing deliveries lost).")
    var broadcastTimeout: Double = 5

    func validate() throws {
        guard (1...1000).contains(inFlight) else { throw ValidationError("--in-flight must be 1...1000") }
        guard broadcastTimeout > 0, broadcastTimeout <= 60 else { throw ValidationError("--broadcast-timeout must be in (0, 60]") }
        guard options.connections + 1 + 64 <= CommonOptions.descriptorLimit() else {
            throw ValidationError("--connections plus the publisher exceed this process's descriptor limit")
        }
    }

    func run() async throws {
        let connector = try ClientConnector(options: options)
        let publisherLoop = connector.states[0]
        let payloadSize = max(options.payloadSize, FanoutMessage.minimumSize)
        let window = inFlight
        let timeoutNanos = UInt64(broadcastTimeout * 1e9)
        _ = try await connector.onEveryLoop { state in
            state.modeState = FanoutLoop(publisherLoop: publisherLoop, isPublisherLoop: state.index == 0)
        }

        Output.line("fanout: opening 1 publisher + \(options.connections) subscribers to \(options.url)")
        let publisherConnect = await connector.connectAll(count: 1, inFlight: 1, deadlineSeconds: options.connectDeadline) { state, _ in
            let publisher = FanoutPublisher(state: state, payloadSize: payloadSize, window: window, timeoutNanos: timeoutNanos)
            (state.modeState as! FanoutLoop).publisher = publisher
            return publisher
        }
        guard publisherConnect.connected == 1 else {
            Output.line("fanout: the publisher could not connect: \(publisherConnect.errorKinds)")
            var report = RunReport(mode: "fanout", options: options, connect: publisherConnect, loops: [])
            report.failed = 1
            await connector.shutdown()
            report.print(headline: "publisher failed to connect")
            throw ExitCode(2)
        }
        let connect = await connector.connectAll(
            count: options.connections, inFlight: options.connectRate, deadlineSeconds: options.connectDeadline, firstIndex: 1
        ) { state, _ in
            let subscriber = FanoutSubscriber(state: state, loop: state.modeState as! FanoutLoop)
            state.sessions.append(subscriber)
            return subscriber
        }
        Output.line("connected \(connect.connected)/\(options.connections) subscribers in \(String(format: "%.2f", connect.seconds)) s (\(connect.failed) failed)")

        let now = Clock.nanos()
        let plan = MeasurePlan(measureStart: now + options.warmupNanos, measureEnd: now + options.warmupNanos + options.durationNanos)
        let live = try await connector.onEveryLoop { state -> Int in
            state.plan = plan
            let loop = state.modeState as! FanoutLoop
            loop.liveSubscribers = state.sessions.count { ($0 as? FanoutSubscriber)?.isOpen == true }
            return loop.liveSubscribers
        }
        let subscribers = live.reduce(0, +)
        let loopsWithSubscribers = live.filter { $0 > 0 }.count
        try await publisherLoop.eventLoop.submit {
            (publisherLoop.value.modeState as! FanoutLoop).publisher?.start(expectedLoops: loopsWithSubscribers)
        }.get()
        let figures = try await Window.wait(plan, servers: servers)

        // Let the broadcasts in flight finish (each is bounded by the broadcast timeout).
        let drainEnd = Clock.nanos() + timeoutNanos + 1_000_000_000
        while Clock.nanos() < drainEnd {
            let pending = try await publisherLoop.eventLoop.submit {
                (publisherLoop.value.modeState as! FanoutLoop).publisher?.pending ?? 0
            }.get()
            if pending == 0 { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }

        let loops = try await connector.onEveryLoop { $0.snapshot() }
        var report = RunReport(mode: "fanout", options: options, connect: connect, loops: loops)
        let measured = report.counters.broadcastsMeasured
        // Losses count every broadcast sent (warm-up included): all of them are done or timed out by now.
        let expected = Int(report.counters.broadcastsSent) * subscribers
        let received = Int(report.counters.ops + report.counters.outsideWindow)
        report.lost = max(0, expected - received)
        report.ok = subscribers - Int(report.counters.closedEarly)
        report.failed = connect.failed + Int(report.counters.closedEarly)
        report.extra = [
            ("client_cpu_window_s", .double(figures.clientCPU)),
            ("subscribers", .int(subscribers)),
            ("broadcasts", .int(Int(measured))),
            ("broadcasts_per_sec", .double(Double(measured) / options.duration)),
            ("broadcasts_sent", .int(Int(report.counters.broadcastsSent))),
            ("broadcasts_timed_out", .int(Int(report.counters.broadcastsTimedOut))),
            ("expected_deliveries", .int(expected)),
            ("received_deliveries", .int(received)),
            ("duplicates", .int(Int(report.counters.duplicates))),
            ("in_flight", .int(window)),
        ]
        report.extra += figures.serverFields
        await connector.shutdown()
        report.print(headline: String(
            format: "%.0f deliveries/s (%.0f broadcasts/s to %d subscribers), lost %d", report.opsPerSecond,
            Double(measured) / options.duration, subscribers, report.lost
        ))
        if connect.connected == 0 { throw ExitCode(2) }
    }
}

/// A broadcast's text: `B`, `m` (measured) or `w` (warm-up), 16 hex digits of sequence number,
/// 16 hex digits of send time (monotonic ns), then filler.
enum FanoutMessage {
    static let minimumSize = 34

    static func make(seq: UInt64, sentAt: UInt64, measured: Bool, size: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        buffer.writeInteger(UInt8(ascii: "B"))
        buffer.writeInteger(measured ? UInt8(ascii: "m") : UInt8(ascii: "w"))
        writeHex(seq, into: &buffer)
        writeHex(sentAt, into: &buffer)
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: size - minimumSize)
        return buffer
    }

    /// (seq, sentAt, measured), or nil when the message is not a broadcast of ours.
    static func parse(_ buffer: ByteBuffer) -> (seq: UInt64, sentAt: UInt64, measured: Bool)? {
        guard buffer.readableBytes >= minimumSize else { return nil }
        return buffer.withUnsafeReadableBytes { bytes -> (UInt64, UInt64, Bool)? in
            guard bytes[0] == UInt8(ascii: "B"), let seq = readHex(bytes, at: 2), let sentAt = readHex(bytes, at: 18) else {
                return nil
            }
            return (seq, sentAt, bytes[1] == UInt8(ascii: "m"))
        }
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func writeHex(_ value: UInt64, into buffer: inout ByteBuffer) {
        for shift in stride(from: 60, through: 0, by: -4) {
            buffer.writeInteger(digits[Int((value >> UInt64(shift)) & 0xF)])
        }
    }

    private static func readHex(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64? {
        var value: UInt64 = 0
        for index in offset..<(offset + 16) {
            let byte = bytes[index]
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }
}

/// Fanout state of one event loop: how many of its subscribers got each sequence number. When all
/// of them did, the loop tells the publisher (one hop per loop per broadcast).
final class FanoutLoop {
    let publisherLoop: NIOLoopBound<LoopState>
    let isPublisherLoop: Bool
    /// Set on the publisher's loop only.
    var publisher: FanoutPublisher?
    var liveSubscribers = 0
    private var received: [UInt64: Int] = [:]

    init(publisherLoop: NIOLoopBound<LoopState>, isPublisherLoop: Bool) {
        self.publisherLoop = publisherLoop
        self.isPublisherLoop = isPublisherLoop
    }

    func arrived(seq: UInt64) {
        let count = received[seq, default: 0] + 1
        if count >= liveSubscribers {
            received.removeValue(forKey: seq)
            done(seq: seq)
        } else {
            received[seq] = count
        }
    }

    func subscriberClosed() {
        liveSubscribers -= 1
        for (seq, count) in received where count >= liveSubscribers {
            received.removeValue(forKey: seq)
            done(seq: seq)
        }
    }

    private func done(seq: UInt64) {
        if isPublisherLoop {
            publisher?.loopDone(seq: seq)
        } else {
            let publisherLoop = self.publisherLoop
            publisherLoop.eventLoop.execute {
                (publisherLoop.value.modeState as? FanoutLoop)?.publisher?.loopDone(seq: seq)
            }
        }
    }
}

@available(*, unavailable)
extension FanoutLoop: Sendable {}

/// One subscriber: counts each sequence number once, records delivery latency.
final class FanoutSubscriber: ClientSession {
    private let state: LoopState
    private let loop: FanoutLoop
    private var lastSeq: UInt64 = 0
    private(set) var isOpen = false
    private var counted = false

    init(state: LoopState, loop: FanoutLoop) {
        self.state = state
        self.loop = loop
    }

    func opened(_ connection: WebSocketClientHandler) {
        isOpen = true
    }

    func received(_ data: ByteBuffer, nanos: UInt64) {
        guard let message = FanoutMessage.parse(data) else {
            state.counters.unexpected += 1
            return
        }
        guard message.seq > lastSeq else {
            state.counters.duplicates += 1
            return
        }
        lastSeq = message.seq
        if message.measured {
            state.counters.ops += 1
            state.record(latencyNanos: nanos &- message.sentAt)
        } else {
            state.counters.outsideWindow += 1
        }
        loop.arrived(seq: message.seq)
    }

    func closed() {
        guard isOpen else { return }
        isOpen = false
        if state.plan.measureStart != .max {
            state.counters.closedEarly += 1
            loop.subscriberClosed()
        }
    }
}

/// The publisher: keeps `window` broadcasts in flight until the measured window ends.
final class FanoutPublisher: ClientSession {
    private let state: LoopState
    private let payloadSize: Int
    private let window: Int
    private let timeoutNanos: UInt64
    private var connection: WebSocketClientHandler?
    private var expectedLoops = 0
    private var nextSeq: UInt64 = 1
    private var inFlight: [UInt64: (sentAt: UInt64, loopsDone: Int)] = [:]
    private var timer: RepeatedTask?

    init(state: LoopState, payloadSize: Int, window: Int, timeoutNanos: UInt64) {
        self.state = state
        self.payloadSize = payloadSize
        self.window = window
        self.timeoutNanos = timeoutNanos
    }

    var pending: Int { inFlight.count }

    func opened(_ connection: WebSocketClientHandler) {
        self.connection = connection
    }

    func start(expectedLoops: Int) {
        self.expectedLoops = expectedLoops
        guard expectedLoops > 0 else { return }
        let bound = NIOLoopBound(self, eventLoop: state.eventLoop)
        timer = state.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            bound.value.expireTimedOut()
        }
        fill(now: Clock.nanos())
    }

    private func fill(now: UInt64) {
        guard let connection, connection.isOpen else { return }
        while inFlight.count < window && now < state.plan.measureEnd {
            let seq = nextSeq
            nextSeq += 1
            let measured = state.plan.contains(now)
            inFlight[seq] = (now, 0)
            state.counters.broadcastsSent += 1
            if measured { state.counters.broadcastsMeasured += 1 }
            connection.sendText(FanoutMessage.make(seq: seq, sentAt: now, measured: measured, size: payloadSize))
        }
    }

    func loopDone(seq: UInt64) {
        guard var entry = inFlight[seq] else { return }
        entry.loopsDone += 1
        if entry.loopsDone >= expectedLoops {
            inFlight.removeValue(forKey: seq)
            state.counters.broadcastsCompleted += 1
            fill(now: Clock.nanos())
        } else {
            inFlight[seq] = entry
        }
    }

    private func expireTimedOut() {
        let now = Clock.nanos()
        let expired = inFlight.filter { now - $0.value.sentAt > timeoutNanos }.map(\.key)
        guard !expired.isEmpty else { return }
        for seq in expired {
            inFlight.removeValue(forKey: seq)
            state.counters.broadcastsTimedOut += 1
        }
        fill(now: now)
    }

    func received(_ data: ByteBuffer, nanos: UInt64) {
        // The server sends broadcasts to their sender too; the publisher does not count them.
    }

    func closed() {
        if state.plan.measureStart != .max { state.counters.closedEarly += 1 }
        timer?.cancel()
        timer = nil
        connection = nil
    }
}
