import NIOCore

/// Buffers of one event loop used again once nobody else holds them, so that a steady stream of
/// messages allocates no buffer per message: the frame reader takes each message's buffer from
/// here, a server each frame it writes, and both give the buffer back (``recycle(_:)``) once they
/// are done writing into it, while others (a socket's pending write, an event kept until a worker
/// acknowledges it) may still read it. ``take(minimumCapacity:)`` hands a buffer out again only
/// when every such holder has let go of it, so no holder ever sees its bytes change.
///
/// Use it on one event loop only.
public final class ByteBufferPool {
    /// One stored property, so that each call makes one exclusivity-checked access to the class's
    /// storage, not one per field it touches.
    private var state: State

    /// How many of the oldest buffers ``take(minimumCapacity:)`` looks at before it allocates: a
    /// buffer still held (its client is slow to read) goes to the back, so it never blocks the others.
    private static let buffersTried = 4

    /// - Parameters:
    ///   - capacity: the most buffers kept; more than the messages in flight on the loop at a time
    ///     (waiting for their acknowledgement, or to be written) lets most be used again.
    ///   - largestBuffer: buffers of a larger capacity are not kept.
    ///   - maxKeptBytes: the most bytes of storage kept, all buffers together.
    public init(allocator: ByteBufferAllocator, capacity: Int = 256, largestBuffer: Int = 16 * 1024, maxKeptBytes: Int = 1 << 20) {
        state = State(
            allocator: allocator,
            capacity: capacity,
            largestBuffer: largestBuffer,
            maxKeptBytes: maxKeptBytes,
            recycled: CircularBuffer(initialCapacity: capacity)
        )
    }

    /// An empty buffer with room for at least `minimumCapacity` bytes that nobody else holds: a
    /// recycled one if one is free, else a new one.
    public func take(minimumCapacity: Int) -> ByteBuffer {
        state.take(minimumCapacity: minimumCapacity)
    }

    /// Gives `buffer` back for a later ``take(minimumCapacity:)``. Call when done writing into it;
    /// whoever only reads it may keep it.
    public func recycle(_ buffer: ByteBuffer) {
        state.recycle(buffer)
    }

    private struct State {
        let allocator: ByteBufferAllocator
        let capacity: Int
        let largestBuffer: Int
        let maxKeptBytes: Int
        /// Buffers given back, oldest first: the likeliest to be free again. Some may still be held.
        var recycled: CircularBuffer<ByteBuffer>
        /// The storage capacity of the buffers in `recycled`, together.
        var keptBytes = 0

        mutating func take(minimumCapacity: Int) -> ByteBuffer {
            if minimumCapacity <= largestBuffer {
                for _ in 0..<min(ByteBufferPool.buffersTried, recycled.count) {
                    var buffer = removeOldest()
                    if buffer.modifyIfUniquelyOwned({ $0.clear(minimumCapacity: minimumCapacity) }) != nil { return buffer }
                    keep(buffer)
                }
            }
            return allocator.buffer(capacity: minimumCapacity)
        }

        mutating func recycle(_ buffer: ByteBuffer) {
            guard buffer.storageCapacity <= largestBuffer else { return }
            while !recycled.isEmpty, recycled.count == capacity || keptBytes + buffer.storageCapacity > maxKeptBytes {
                _ = removeOldest()
            }
            keep(buffer)
        }

        private mutating func keep(_ buffer: ByteBuffer) {
            keptBytes += buffer.storageCapacity
            recycled.append(buffer)
        }

        private mutating func removeOldest() -> ByteBuffer {
            let buffer = recycled.removeFirst()
            keptBytes -= buffer.storageCapacity
            return buffer
        }
    }
}

@available(*, unavailable)
extension ByteBufferPool: Sendable {}
