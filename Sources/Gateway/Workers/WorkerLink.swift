import NIOCore
import Wire

/// An authenticated link from one business-worker process, as the gateway's routing sees it.
final class WorkerLink: Sendable, CustomStringConvertible {
    /// Unique within this gateway process, for logs and routing tables.
    let id: Int
    /// The worker's own name for itself (`name:id`), from its hello.
    let workerKey: String
    let channel: Channel
    private let flusher: ChannelFlushCoalescer

    init(id: Int, workerKey: String, channel: Channel) {
        self.id = id
        self.workerKey = workerKey
        self.channel = channel
        self.flusher = ChannelFlushCoalescer(channel: channel)
    }

    var isActive: Bool { channel.isActive }

    /// Queues `frame` to the worker from any thread; flushed once per tick of the link's loop.
    func send(_ frame: GatewayFrame) {
        if channel.eventLoop.inEventLoop {
            write(frame)
        } else {
            channel.eventLoop.execute { self.write(frame) }
        }
    }

    private func write(_ frame: GatewayFrame) {
        channel.write(frame, promise: nil)
        flusher.scheduleFlush()
    }

    var description: String {
        "\(workerKey)#\(id)@\(channel.remoteAddress.map { "\($0)" } ?? "?")"
    }
}
