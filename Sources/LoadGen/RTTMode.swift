import Foundation
import ArgumentParser
import NIOCore

/// `rtt`: every connection sends a text message and waits for its echo, again and again; counts
/// round trips completed inside the measured window and records their latency.
struct RTTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtt",
        abstract: "Round trips: each connection sends a message, waits for its echo, repeats."
    )

    @OptionGroup var options: CommonOptions
    @OptionGroup var servers: ServerCounterOptions

    @Option(help: "After the window, wait at most this long (seconds) for the last echoes.")
    var drainTimeout: Double = 5

    func run() async throws {
        let connector = try ClientConnector(options: options)
        let payloadSize = options.payloadSize
        Output.line("rtt: opening \(options.connections) connections to \(options.url)")
        let connect = await connector.connectAll(
            count: options.connections, inFlight: options.connectRate, deadlineSeconds: options.connectDeadline
        ) { state, _ in
            let session = RTTSession(state: state, payload: Payload.text(first: "r", size: payloadSize))
            state.sessions.append(session)
            return session
        }
        Output.line("connected \(connect.connected)/\(options.connections) in \(String(format: "%.2f", connect.seconds)) s (\(connect.failed) failed)")

        let now = Clock.nanos()
        let plan = MeasurePlan(measureStart: now + options.warmupNanos, measureEnd: now + options.warmupNanos + options.durationNanos)
        _ = try await connector.onEveryLoop { state in
            state.plan = plan
            for case let session as RTTSession in state.sessions { session.start() }
        }
        let figures = try await Window.wait(plan, servers: servers)

        // Let the round trips in flight at the end come back, bounded.
        let drainEnd = Clock.nanos() + UInt64(drainTimeout * 1e9)
        var waiting = 0
        repeat {
            waiting = try await connector.onEveryLoop { state in
                state.sessions.reduce(0) { $0 + (($1 as? RTTSession)?.isWaiting == true ? 1 : 0) }
            }.reduce(0, +)
            if waiting == 0 { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        } while Clock.nanos() < drainEnd

        let loops = try await connector.onEveryLoop { $0.snapshot() }
        var report = RunReport(mode: "rtt", options: options, connect: connect, loops: loops)
        report.lost = waiting
        report.ok = connect.connected - Int(report.counters.closedEarly)
        report.failed = connect.failed + Int(report.counters.closedEarly)
        report.extra = [("client_cpu_window_s", .double(figures.clientCPU)), ("outside_window", .int(Int(report.counters.outsideWindow)))]
        report.extra += figures.serverFields
        await connector.shutdown()
        report.print(headline: String(format: "%.0f round trips/s over %.1f s", report.opsPerSecond, options.duration))
        if connect.connected == 0 { throw ExitCode(2) }
    }
}

/// One rtt connection: a single message in flight at a time.
final class RTTSession: ClientSession {
    private let state: LoopState
    private let payload: ByteBuffer
    private var connection: WebSocketClientHandler?
    private var sentAt: UInt64 = 0
    private var started = false
    private(set) var isWaiting = false

    init(state: LoopState, payload: ByteBuffer) {
        self.state = state
        self.payload = payload
    }

    func opened(_ connection: WebSocketClientHandler) {
        self.connection = connection
    }

    func start() {
        started = true
        sendNext(now: Clock.nanos())
    }

    private func sendNext(now: UInt64) {
        guard now < state.plan.measureEnd, let connection, connection.isOpen else { return }
        sentAt = now
        isWaiting = true
        connection.sendText(payload)
    }

    func received(_ data: ByteBuffer, nanos: UInt64) {
        guard isWaiting, data.getInteger(at: data.readerIndex, as: UInt8.self) == Payload.rttByte else {
            state.counters.unexpected += 1
            return
        }
        isWaiting = false
        if sentAt >= state.plan.measureStart && nanos < state.plan.measureEnd {
            state.counters.ops += 1
            state.record(latencyNanos: nanos - sentAt)
        } else {
            state.counters.outsideWindow += 1
        }
        sendNext(now: nanos)
    }

    func closed() {
        if started { state.counters.closedEarly += 1 }
        connection = nil
    }
}

/// Message bodies.
enum Payload {
    static let rttByte = UInt8(ascii: "r")
    static let idleByte = UInt8(ascii: "i")

    /// `size` bytes of text: `first`, then filler.
    static func text(first: Character, size: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        buffer.writeString(String(first))
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: max(0, size - 1))
        return buffer
    }
}
