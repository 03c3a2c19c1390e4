import DataCenterProtocol
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// One job's child process: its output streamed to a sink, stdin fed from requests, stopped by a
/// cancel or its timeout (SIGTERM to its process group, SIGKILL after the grace period).
struct JobExecution: Sendable {
    enum StdinCommand: Sendable {
        case data(String)
        case endOfFile
    }

    enum StopReason: Sendable {
        case cancelled
        case timedOut
    }

    /// How the process ended.
    struct Outcome: Sendable {
        var state: JobState
        var exitCode: Int?
        var signal: Int?
    }

    let program: String
    let arguments: [String]
    let timeout: Duration
    let grace: Duration

    /// Runs the process to its end and says how it ended. Never throws: a program that cannot be
    /// started is a failed job with the reason on its stderr.
    func run(sink: JobOutputSink, stdin: AsyncStream<StdinCommand>, stop: AsyncStream<StopReason>) async -> Outcome {
        var options = PlatformOptions()
        // Its own session and process group: a stop reaches the children a script started too.
        options.createSession = true
        do {
            let result = try await Subprocess.run(
                .path(FilePath(program)), arguments: Arguments(arguments), platformOptions: options,
                input: .inputWriter, output: .sequence, error: .sequence
            ) { execution in
                await supervise(execution, sink: sink, stdin: stdin, stop: stop)
            }
            let reason = result.closureResult
            switch result.terminationStatus {
            case .exited(let code):
                let state: JobState = reason.map(Self.state) ?? (code == 0 ? .done : .failed)
                return Outcome(state: state, exitCode: Int(code))
            case .signaled(let signal):
                return Outcome(state: reason.map(Self.state) ?? .failed, signal: Int(signal))
            }
        } catch {
            await sink.note("[datacentered agent: cannot start \(program): \(error)]\n")
            return Outcome(state: .failed)
        }
    }

    private enum Event: Sendable {
        case streamEnded
        case stdinDone
        case stopped(StopReason?)
    }

    private func supervise(
        _ execution: Execution<CustomWriteInput, SequenceOutput, SequenceOutput>,
        sink: JobOutputSink, stdin: AsyncStream<StdinCommand>, stop: AsyncStream<StopReason>
    ) async -> StopReason? {
        await withTaskGroup(of: Event.self) { group in
            group.addTask {
                try? await forward(execution.standardOutput, as: .stdout, to: sink)
                return .streamEnded
            }
            group.addTask {
                try? await forward(execution.standardError, as: .stderr, to: sink)
                return .streamEnded
            }
            group.addTask {
                let writer = execution.standardInputWriter
                for await command in stdin {
                    switch command {
                    case .data(let text): _ = try? await writer.write(text)
                    case .endOfFile:
                        try? await writer.finish()
                        return .stdinDone
                    }
                }
                return .stdinDone
            }
            group.addTask {
                let reason = await firstStop(stop)
                if reason != nil {
                    await execution.teardown(using: [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: grace)])
                }
                return .stopped(reason)
            }
            var streamsOpen = 2
            var reason: StopReason?
            while let event = await group.next() {
                switch event {
                case .streamEnded:
                    streamsOpen -= 1
                    // Both pipes closed: the process (and whatever inherited them) is gone.
                    if streamsOpen == 0 { group.cancelAll() }
                case .stopped(let stopReason):
                    reason = reason ?? stopReason
                case .stdinDone:
                    break
                }
            }
            return reason
        }
    }

    /// The timeout or a stop request, whichever comes first; nil when cancelled (the process ended).
    private func firstStop(_ stop: AsyncStream<StopReason>) async -> StopReason? {
        await withTaskGroup(of: StopReason?.self) { group in
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                } catch {
                    return nil
                }
            }
            group.addTask {
                var iterator = stop.makeAsyncIterator()
                return await iterator.next()
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private func forward(_ sequence: SubprocessOutputSequence, as stream: DataCenterProtocol.OutputStream, to sink: JobOutputSink) async throws {
        for try await buffer in sequence {
            await sink.write(buffer.withUnsafeBytes { Array($0) }, from: stream)
        }
        await sink.finish(stream)
    }

    private static func state(_ reason: StopReason) -> JobState {
        switch reason {
        case .cancelled: return .cancelled
        case .timedOut: return .timedOut
        }
    }
}
