import Foundation
import ArgumentParser
import NIOCore

/// `idle`: opens N connections, holds them quietly for the duration, then checks that each one
/// still echoes a message within a timeout.
struct IdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Idle connections: open N, hold them, then check each still echoes."
    )

    @OptionGroup var options: CommonOptions

    @Option(help: "Seconds to wait for the echoes of the final check.")
    var checkTimeout: Double = 15

    @Option(help: "After --duration, keep holding until this file exists (bounded: 600 s in all), so that several generators can be released together.")
    var holdFile: String?

    func validate() throws {
        guard checkTimeout > 0, checkTimeout <= 120 else { throw ValidationError("--check-timeout must be in (0, 120]") }
    }

    func run() async throws {
        let connector = try ClientConnector(options: options)
        let payloadSize = options.payloadSize
        Output.line("idle: opening \(options.connections) connections to \(options.url)")
        let connect = await connector.connectAll(
            count: options.connections, inFlight: options.connectRate, deadlineSeconds: options.connectDeadline
        ) { state, _ in
            let session = IdleSession(state: state, payload: Payload.text(first: "i", size: payloadSize))
            state.sessions.append(session)
            return session
        }
        // Scripts wait for this line before sampling the server's memory.
        Output.line("connected \(connect.connected)/\(options.connections) in \(String(format: "%.2f", connect.seconds)) s (\(connect.failed) failed); holding \(options.duration) s")

        let holdStart = Clock.nanos()
        let plan = MeasurePlan(measureStart: holdStart, measureEnd: .max)
        _ = try await connector.onEveryLoop { $0.plan = plan }
        try await Task.sleep(nanoseconds: options.durationNanos)
        if let holdFile {
            let limit = holdStart + UInt64(CommonOptions.maxDurationSeconds * 1e9)
            while access(holdFile, F_OK) != 0 && Clock.nanos() < limit {
                try await Task.sleep(nanoseconds: 100_000_000)
            }
        }
        let held = Double(Clock.nanos() - holdStart) / 1e9

        let open = try await connector.onEveryLoop { state in
            state.sessions.reduce(0) { $0 + (($1 as? IdleSession)?.check() == true ? 1 : 0) }
        }.reduce(0, +)
        Output.line("checking \(open) open connections")
        let checkEnd = Clock.nanos() + UInt64(checkTimeout * 1e9)
        var answered = 0
        repeat {
            try await Task.sleep(nanoseconds: 100_000_000)
            answered = try await connector.onEveryLoop { Int($0.counters.ok) }.reduce(0, +)
        } while answered < open && Clock.nanos() < checkEnd

        let loops = try await connector.onEveryLoop { $0.snapshot() }
        var report = RunReport(mode: "idle", options: options, connect: connect, loops: loops)
        report.ok = Int(report.counters.ok)
        report.failed = options.connections - report.ok
        report.ops = report.counters.ok
        report.extra = [
            ("held_open", .int(open)),
            ("held_seconds", .double(held)),
            ("check_failed", .int(connect.connected - report.ok)),
            ("connects_per_sec", .double(connect.seconds > 0 ? Double(connect.connected) / connect.seconds : 0)),
        ]
        await connector.shutdown()
        report.print(headline: "\(report.ok)/\(options.connections) connections echoed after \(options.duration) s idle")
        if connect.connected == 0 { throw ExitCode(2) }
    }
}

/// One idle connection: silent until `check`, then one message and its echo.
final class IdleSession: ClientSession {
    private let state: LoopState
    private let payload: ByteBuffer
    private var connection: WebSocketClientHandler?
    private var sentAt: UInt64 = 0
    private var waiting = false

    init(state: LoopState, payload: ByteBuffer) {
        self.state = state
        self.payload = payload
    }

    func opened(_ connection: WebSocketClientHandler) {
        self.connection = connection
    }

    /// Sends the check message; false when the connection is no longer open.
    func check() -> Bool {
        guard let connection, connection.isOpen else { return false }
        sentAt = Clock.nanos()
        waiting = true
        connection.sendText(payload)
        return true
    }

    func received(_ data: ByteBuffer, nanos: UInt64) {
        guard waiting, data.getInteger(at: data.readerIndex, as: UInt8.self) == Payload.idleByte else {
            state.counters.unexpected += 1
            return
        }
        waiting = false
        state.counters.ok += 1
        state.record(latencyNanos: nanos - sentAt)
    }

    func closed() {
        if state.plan.measureStart != .max { state.counters.closedEarly += 1 }
        connection = nil
    }
}
