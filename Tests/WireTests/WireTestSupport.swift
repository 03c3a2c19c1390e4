import NIOCore
import NIOEmbedded
import Wire
import XCTest

/// Helpers shared by the Wire codec tests.
enum WireTestSupport {
    static func buffer(_ bytes: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: bytes)
    }

    static func buffer(_ text: String) -> ByteBuffer {
        ByteBuffer(string: text)
    }

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] {
        Array(buffer.readableBytesView)
    }

    /// A channel holding only a frame decoder.
    static func decodingChannel(
        maximumFrameLength: Int = GatewayFrameDecoder.defaultMaximumFrameLength
    ) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(GatewayFrameDecoder(maximumFrameLength: maximumFrameLength))
        )
        return channel
    }

    /// A channel holding only a frame encoder.
    static func encodingChannel(
        maximumFrameLength: Int = GatewayFrameDecoder.defaultMaximumFrameLength
    ) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            GatewayFrameEncoder(maximumFrameLength: maximumFrameLength)
        )
        return channel
    }

    /// Encodes `frame` through an encoding channel and returns all the bytes it wrote.
    static func encode(_ frame: GatewayFrame, file: StaticString = #filePath, line: UInt = #line) throws -> ByteBuffer {
        let channel = try encodingChannel()
        try channel.writeOutbound(frame)
        var out = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) {
            out.writeBuffer(&chunk)
        }
        XCTAssertTrue(try channel.finish().isClean, file: file, line: line)
        return out
    }

    /// Builds the wire bytes of a header by hand, field by field, independently of the encoder.
    static func header(
        length: UInt32,
        command: UInt8,
        localIP: UInt32 = 0,
        localPort: UInt16 = 0,
        clientIP: UInt32 = 0,
        clientPort: UInt16 = 0,
        connectionID: UInt32 = 0,
        flags: UInt8 = 0,
        gatewayPort: UInt16 = 0,
        extLength: UInt32 = 0
    ) -> [UInt8] {
        func be32(_ value: UInt32) -> [UInt8] {
            [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
        }
        func be16(_ value: UInt16) -> [UInt8] {
            [UInt8(value >> 8), UInt8(value & 0xff)]
        }
        return be32(length) + [command] + be32(localIP) + be16(localPort) + be32(clientIP) + be16(clientPort)
            + be32(connectionID) + [flags] + be16(gatewayPort) + be32(extLength)
    }

    /// A frame with every header field set to a distinct value, plus non-empty ext data and body.
    static func sampleFrame(command: GatewayCommand = .sendToOne) -> GatewayFrame {
        GatewayFrame(
            command: command,
            localIP: 0x0A00_0001,
            localPort: 2900,
            clientIP: 0xC0A8_0102,
            clientPort: 54321,
            connectionID: 77,
            flags: [.raw, .binary],
            gatewayPort: 8282,
            extData: buffer("{\"uid\":\"u1\"}"),
            body: buffer("hello, world")
        )
    }
}
