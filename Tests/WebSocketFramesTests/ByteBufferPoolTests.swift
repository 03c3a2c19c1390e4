import NIOCore
import WebSocketFrames
import XCTest

final class ByteBufferPoolTests: XCTestCase {
    func testABufferNobodyHoldsIsHandedOutAgainEmpty() {
        let pool = ByteBufferPool(allocator: ByteBufferAllocator())
        let storage = writtenAndRecycled("message", capacity: 64, in: pool)
        let again = pool.take(minimumCapacity: 64)
        XCTAssertEqual(address(of: again), storage)
        XCTAssertEqual(again.readableBytes, 0)
        XCTAssertGreaterThanOrEqual(again.writableBytes, 64)
    }

    func testABufferStillHeldIsNotHandedOutAndKeepsItsBytes() {
        let pool = ByteBufferPool(allocator: ByteBufferAllocator())
        var held = pool.take(minimumCapacity: 64)
        held.writeString("still being written to a socket")
        pool.recycle(held)
        var other = pool.take(minimumCapacity: 64)
        XCTAssertNotEqual(address(of: other), address(of: held))
        other.writeString("next")
        XCTAssertEqual(String(buffer: held), "still being written to a socket")
    }

    func testAHeldBufferDoesNotKeepTheFreeOnesBehindItFromBeingUsed() {
        let pool = ByteBufferPool(allocator: ByteBufferAllocator())
        var held = pool.take(minimumCapacity: 16)
        held.writeString("slow reader")
        pool.recycle(held)
        let freeStorage = writtenAndRecycled("written", capacity: 16, in: pool)
        XCTAssertEqual(address(of: pool.take(minimumCapacity: 16)), freeStorage)
        XCTAssertEqual(String(buffer: held), "slow reader")
    }

    func testLargeBuffersAreNotKept() {
        let pool = ByteBufferPool(allocator: ByteBufferAllocator(), largestBuffer: 1024)
        let large = pool.take(minimumCapacity: 4096)
        let storage = address(of: large)
        pool.recycle(large)
        XCTAssertNotEqual(address(of: pool.take(minimumCapacity: 4096)), storage)
    }

    /// Where the bytes of a buffer taken from `pool`, written and given back, are; nobody holds it.
    private func writtenAndRecycled(_ text: String, capacity: Int, in pool: ByteBufferPool) -> UnsafeRawPointer? {
        var buffer = pool.take(minimumCapacity: capacity)
        buffer.writeString(text)
        pool.recycle(buffer)
        return address(of: buffer)
    }

    private func address(of buffer: ByteBuffer) -> UnsafeRawPointer? {
        buffer.withVeryUnsafeBytes { UnsafeRawPointer($0.baseAddress) }
    }
}
