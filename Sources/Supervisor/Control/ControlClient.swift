import Foundation
import NIOCore
import NIOPosix

/// The command side of the control socket (`datacentered status`, `stop`, ...).
public enum ControlClient {
    /// Sends `command` to the supervisor of `runDirectory` and returns its answer; throws
    /// ``SupervisorError/notRunning(pidFile:)`` when no supervisor runs there.
    public static func send(_ command: String, runDirectory: RunDirectory, timeout: TimeAmount = .seconds(30)) async throws -> ControlResponse {
        _ = try runDirectory.runningPID()
        let group = MultiThreadedEventLoopGroup.singleton
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: group).connect(unixDomainSocketPath: runDirectory.controlSocket) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineSplitter(maximumLength: 64 << 20)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        } catch {
            throw SupervisorError.controlFailed(reason: "cannot reach the supervisor at \(runDirectory.controlSocket): \(error)")
        }
        let deadline = channel.channel.eventLoop.scheduleTask(in: timeout) { channel.channel.close(promise: nil) }
        defer { deadline.cancel() }
        var request = try JSONEncoder().encode(ControlRequest(command: command))
        request.append(UInt8(ascii: "\n"))
        let answer: ByteBuffer? = try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: request))
            for try await line in inbound { return line }
            return nil
        }
        guard let answer else { throw SupervisorError.controlFailed(reason: "the supervisor closed the control socket without an answer") }
        return try ControlCoding.decoder.decode(ControlResponse.self, from: Data(answer.readableBytesView))
    }
}
