// libFuzzer target (Deploy/fuzz.sh): the gateway <-> worker frame decoder on arbitrary bytes.
// Compiled into one module with Wire's sources, so it calls them without an import.
import NIOCore

/// Decodes frames until the input runs out or is refused; every frame decoded must survive an
/// encode and a decode unchanged, and no input may make the decoder read past the maximum.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGatewayFrameDecoder(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let maximum = 1 << 16
    var buffer = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    while true {
        let before = buffer.readableBytes
        guard let frame = try? GatewayFrameDecoder.decodeFrame(from: &buffer, maximumFrameLength: maximum) else { break }
        precondition(frame.encodedLength <= maximum && frame.encodedLength == before - buffer.readableBytes, "frame length")
        var encoded = ByteBuffer()
        encoded.writeGatewayFrame(frame)
        let again = try? GatewayFrameDecoder.decodeFrame(from: &encoded, maximumFrameLength: maximum)
        precondition(again == frame && encoded.readableBytes == 0, "a decoded frame does not survive a round trip")
    }
    return 0
}
