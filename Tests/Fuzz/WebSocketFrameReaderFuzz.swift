// libFuzzer target (Deploy/fuzz.sh): the gateway's client WebSocket frame reader on arbitrary bytes,
// arriving in chunks. Compiled into one module with Sources/WebSocketFrames, so it calls it without an import.
import NIOCore
import NIOWebSocket

/// What the reader made of the bytes, comparable across two ways of feeding them.
private enum Outcome: Equatable {
    case message([UInt8], isBinary: Bool)
    case ping([UInt8])
    case close(UInt16?)
    case failure(UInt16)
}

/// The first byte sets the chunk size; the rest is fed in chunks of that size. The events must be
/// the same as when everything arrives at once: messages within the limit, text valid UTF-8, pings
/// within 125 bytes, and nothing read after a close or a failure.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocketFrameReader(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard let first = input.first else { return 0 }
    let chunk = Int(first % 64) + 1
    let maximum = 1024
    // Recycled messages are handed out again: what the reader writes must never change one still held.
    let buffers = ByteBufferPool(allocator: ByteBufferAllocator(), capacity: 4)

    func outcomes(feedingBy size: Int) -> [Outcome] {
        var reader = WebSocketFrameReader(maxMessageSize: maximum)
        var buffer = ByteBuffer()
        var outcomes: [Outcome] = []
        var offset = 1
        while offset < input.count, !reader.isFinished {
            let end = min(input.count, offset + size)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: input[offset..<end]))
            offset = end
            while let event = reader.next(from: &buffer, buffers: buffers) {
                switch event {
                case .message(let payload, let isBinary):
                    precondition(payload.readableBytes <= maximum, "message above the limit")
                    precondition(isBinary || String(validating: payload.readableBytesView, as: UTF8.self) != nil, "invalid UTF-8 passed")
                    outcomes.append(.message(Array(payload.readableBytesView), isBinary: isBinary))
                    buffers.recycle(payload)
                case .ping(let payload):
                    precondition(payload.readableBytes <= 125, "control frame above 125 bytes")
                    outcomes.append(.ping(Array(payload.readableBytesView)))
                case .close(let code):
                    outcomes.append(.close(code))
                case .failure(let code, _):
                    outcomes.append(.failure(UInt16(webSocketErrorCode: code)))
                }
            }
        }
        return outcomes
    }

    let chunked = outcomes(feedingBy: chunk)
    let whole = outcomes(feedingBy: input.count)
    precondition(chunked == whole, "events depend on how the bytes arrive")
    return 0
}
