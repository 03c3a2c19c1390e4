import NIOCore
import WebSocketFrames

/// The clients of one event loop, and the broadcast fan-out between loops.
///
/// Every hub is touched only on its own event loop. A broadcast is written at once to the clients
/// of the loop it arrived on (flushed once at the end of the loop tick), and handed to every other
/// loop with one `execute` per loop per tick, which writes all queued frames to its clients and
/// flushes each client once.
final class LoopHub {
    let eventLoop: EventLoop
    /// The other loops' hubs; set once, before the server accepts connections.
    var peers: [NIOLoopBound<LoopHub>] = []
    /// The loop's message buffers, used again once their frames are written.
    let buffers: ByteBufferPool

    private var clients: [WebSocketEchoHandler] = []
    /// Frames broadcast on this loop during this tick, still to be sent to the other loops.
    private var outbox: [ByteBuffer] = []
    /// Local clients got a broadcast this tick and need one flush.
    private var localFlushPending = false
    private var endOfTickScheduled = false

    init(eventLoop: EventLoop, allocator: ByteBufferAllocator) {
        self.eventLoop = eventLoop
        self.buffers = ByteBufferPool(allocator: allocator)
    }

    var clientCount: Int { clients.count }

    func add(_ client: WebSocketEchoHandler) {
        client.hubIndex = clients.count
        clients.append(client)
    }

    func remove(_ client: WebSocketEchoHandler) {
        let index = client.hubIndex
        guard index >= 0, index < clients.count, clients[index] === client else { return }
        let last = clients.removeLast()
        if last !== client {
            clients[index] = last
            last.hubIndex = index
        }
        client.hubIndex = -1
    }

    /// Sends an encoded frame to every client of every loop (the sender included).
    func broadcast(_ frame: ByteBuffer) {
        for client in clients {
            client.write(frame)
        }
        localFlushPending = true
        if !peers.isEmpty {
            outbox.append(frame)
        }
        scheduleEndOfTick()
    }

    private func scheduleEndOfTick() {
        guard !endOfTickScheduled else { return }
        endOfTickScheduled = true
        // Tasks run after the I/O of the current tick: every broadcast read in this tick shares it.
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { bound.value.endOfTick() }
    }

    private func endOfTick() {
        endOfTickScheduled = false
        if localFlushPending {
            localFlushPending = false
            for client in clients {
                client.flush()
            }
        }
        guard !outbox.isEmpty else { return }
        let frames = outbox
        outbox.removeAll(keepingCapacity: true)
        for peer in peers {
            peer.eventLoop.execute { peer.value.deliver(frames) }
        }
    }

    /// Writes frames broadcast on another loop to this loop's clients, one flush per client.
    private func deliver(_ frames: [ByteBuffer]) {
        for client in clients {
            for frame in frames {
                client.write(frame)
            }
            client.flush()
        }
    }
}

@available(*, unavailable)
extension LoopHub: Sendable {}
