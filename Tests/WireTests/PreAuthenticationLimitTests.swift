import NIOCore
import NIOEmbedded
import Wire
import XCTest

final class PreAuthenticationLimitTests: XCTestCase {
    func testBytesUpToTheLimitPassAndOneMoreIsAnError() throws {
        let channel = EmbeddedChannel(handler: PreAuthenticationLimit(maximumBytes: 10))
        try channel.writeInbound(ByteBuffer(bytes: Array(repeating: 1, count: 6)))
        try channel.writeInbound(ByteBuffer(bytes: Array(repeating: 2, count: 4)))
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self)?.readableBytes, 6)
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self)?.readableBytes, 4)
        XCTAssertThrowsError(try channel.writeInbound(ByteBuffer(bytes: [3]))) { error in
            XCTAssertEqual((error as? PreAuthenticationLimit.Exceeded)?.maximumBytes, 10)
        }
        XCTAssertNil(try channel.readInbound(as: ByteBuffer.self), "nothing past the limit is passed on")
        // Further bytes are swallowed without another error.
        XCTAssertNoThrow(try channel.writeInbound(ByteBuffer(bytes: [4])))
        XCTAssertNil(try channel.readInbound(as: ByteBuffer.self))
    }

    func testOnceRemovedItNoLongerCounts() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(PreAuthenticationLimit(maximumBytes: 4), name: PreAuthenticationLimit.name)
        try channel.writeInbound(ByteBuffer(bytes: [1, 2, 3]))
        _ = try channel.readInbound(as: ByteBuffer.self)
        channel.pipeline.syncOperations.removeHandler(name: PreAuthenticationLimit.name, promise: nil)
        try channel.writeInbound(ByteBuffer(bytes: Array(repeating: 9, count: 100)))
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self)?.readableBytes, 100)
    }
}
