import NIOCore
import NIOWebSocket

/// Reads what a WebSocket client sends (RFC 6455, section 5) straight from the received bytes:
/// checks each frame header, unmasks payloads a word at a time, reassembles fragmented messages up
/// to the message size limit (with control frames in between), checks text as UTF-8 fragment by
/// fragment, and turns a breach of the protocol into the close code the RFC calls for.
///
/// It holds only the message under reassembly; the bytes of an incomplete frame stay with the
/// caller, who passes them again with more. After a close or a failure it reads nothing more.
public struct WebSocketFrameReader {
    /// What a client's frames amount to.
    public enum Event: Sendable {
        /// A whole message, unmasked, with room for a server frame's header in front of it; its
        /// buffer comes from the pool passed to ``next(from:buffers:)``, to be recycled there once
        /// the caller is done writing into it.
        case message(ByteBuffer, isBinary: Bool)
        /// A ping and its payload, unmasked, to be answered with a pong carrying the same.
        case ping(ByteBuffer)
        /// The client's close, with its status code; nil when the frame has none.
        case close(code: UInt16?)
        /// The client broke the protocol: the connection is to be closed with `code`.
        case failure(WebSocketErrorCode, reason: String)
    }

    private let maxMessageSize: Int
    /// The fragmented message under reassembly.
    private var fragmented: Fragmented?
    /// True after a close or a failure: nothing more is read.
    public private(set) var isFinished = false

    private struct Fragmented {
        var payload: ByteBuffer
        let isBinary: Bool
        var utf8 = UTF8Validator()
    }

    /// The size of the frame that the bytes passed last begin, when its header was whole but its
    /// payload not yet: room to reserve for the rest.
    public private(set) var incompleteFrameSize: Int?

    public init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    /// Reads frames from `buffer` until one completes an event; nil when `buffer` ends before that.
    /// Consumes the frames it reads, and never part of one. Unmasked payloads go into buffers taken
    /// from `buffers`.
    public mutating func next(from buffer: inout ByteBuffer, buffers: ByteBufferPool) -> Event? {
        while !isFinished {
            guard let frame = readFrame(from: &buffer) else { return nil }
            let event: Event?
            switch frame {
            case .frame(let header, let payload): event = handle(header, payload: payload, buffers: buffers)
            case .failure(let failure): event = failure
            }
            if let event {
                switch event {
                case .close, .failure: isFinished = true
                case .message, .ping: break
                }
                return event
            }
        }
        return nil
    }

    private struct Header {
        let isFinal: Bool
        let opcode: WebSocketOpcode
        let mask: WebSocketMask
    }

    private enum Read {
        case frame(Header, payload: ByteBuffer)
        case failure(Event)
    }

    /// The next whole frame of `buffer` (its payload still masked), a failure as soon as the header
    /// shows one, or nil when more bytes are needed.
    private mutating func readFrame(from buffer: inout ByteBuffer) -> Read? {
        incompleteFrameSize = nil
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self), let second = buffer.getInteger(at: start + 1, as: UInt8.self) else {
            return nil
        }
        if let breach = checkHeader(first, second) { return .failure(.failure(.protocolError, reason: breach)) }
        var length = Int(second & 0x7F)
        var headerLength = 2
        if length == 126 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(extended)
            headerLength += 2
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            guard extended >> 63 == 0 else { return .failure(.failure(.protocolError, reason: "64-bit length with its top bit set")) }
            length = Int(extended)
            headerLength += 8
        }
        if first & 0x08 == 0, length > maxMessageSize - (fragmented?.payload.readableBytes ?? 0) {
            return .failure(.failure(.messageTooLarge, reason: "message over \(maxMessageSize) bytes"))
        }
        let frameSize = headerLength + 4 + length
        guard buffer.readableBytes >= frameSize, let mask = WebSocketMask(at: start + headerLength, in: buffer),
            let payload = buffer.getSlice(at: start + headerLength + 4, length: length)
        else {
            incompleteFrameSize = frameSize
            return nil
        }
        buffer.moveReaderIndex(forwardBy: frameSize)
        // A nibble is always an opcode.
        let opcode = WebSocketOpcode(encodedWebSocketOpcode: first & 0x0F)!
        return .frame(Header(isFinal: first & 0x80 != 0, opcode: opcode, mask: mask), payload: payload)
    }

    /// What is wrong with a frame, from its first two bytes; nil when nothing is.
    private func checkHeader(_ first: UInt8, _ second: UInt8) -> String? {
        let isFinal = first & 0x80 != 0
        guard first & 0x70 == 0 else { return "reserved bits set" }
        guard second & 0x80 != 0 else { return "unmasked frame" }
        switch first & 0x0F {
        case 0x0:
            guard fragmented != nil else { return "continuation frame without a message to continue" }
        case 0x1, 0x2:
            guard fragmented == nil else { return "new message inside a fragmented one" }
        case 0x8, 0x9, 0xA:
            guard isFinal else { return "fragmented control frame" }
            guard second & 0x7F <= 125 else { return "control frame over 125 bytes" }
        case let opcode:
            return "reserved opcode \(opcode)"
        }
        return nil
    }

    /// The event a frame completes, if any.
    private mutating func handle(_ header: Header, payload: ByteBuffer, buffers: ByteBufferPool) -> Event? {
        switch header.opcode {
        case .text, .binary:
            let isBinary = header.opcode == .binary
            // Room in front for a server frame's header, so that a server sending the message on as a
            // frame writes the header there (prependWebSocketFrameHeader) instead of copying it.
            let headroom = ByteBuffer.largestWebSocketFrameHeaderLength
            var message = buffers.take(minimumCapacity: headroom + payload.readableBytes)
            message.moveWriterIndex(forwardBy: headroom)
            message.moveReaderIndex(forwardBy: headroom)
            message.writeUnmasked(payload, mask: header.mask)
            fragmented = Fragmented(payload: message, isBinary: isBinary)
            return finishFragment(at: headroom, isFinal: header.isFinal)
        case .continuation:
            guard let start = fragmented?.payload.writerIndex else { return nil }
            fragmented?.payload.writeUnmasked(payload, mask: header.mask)
            return finishFragment(at: start, isFinal: header.isFinal)
        case .ping:
            var data = buffers.take(minimumCapacity: payload.readableBytes)
            data.writeUnmasked(payload, mask: header.mask)
            return .ping(data)
        case .connectionClose:
            var data = buffers.take(minimumCapacity: payload.readableBytes)
            data.writeUnmasked(payload, mask: header.mask)
            defer { buffers.recycle(data) }
            return close(data)
        default:
            // A pong: nothing to do beyond having heard from the client.
            return nil
        }
    }

    /// Checks the fragment just appended from `start` on; the message when it was the last one.
    private mutating func finishFragment(at start: Int, isFinal: Bool) -> Event? {
        guard var message = fragmented else { return nil }
        fragmented = nil
        if !message.isBinary {
            var utf8 = message.utf8
            let valid = message.payload.withUnsafeReadableBytes { bytes in
                utf8.validate(UnsafeRawBufferPointer(rebasing: bytes[(start - message.payload.readerIndex)...]))
            }
            message.utf8 = utf8
            guard valid, !isFinal || utf8.isComplete else {
                return .failure(.dataInconsistentWithMessage, reason: "text message is not UTF-8")
            }
        }
        if isFinal { return .message(message.payload, isBinary: message.isBinary) }
        fragmented = message
        return nil
    }

    /// The close event for a close frame's unmasked payload: a valid code and a UTF-8 reason, or none.
    private func close(_ payload: ByteBuffer) -> Event {
        var payload = payload
        guard payload.readableBytes != 1 else { return .failure(.protocolError, reason: "close frame of 1 byte") }
        guard let code = payload.readInteger(as: UInt16.self) else { return .close(code: nil) }
        guard Self.isValidCloseCode(code) else { return .failure(.protocolError, reason: "invalid close code \(code)") }
        var utf8 = UTF8Validator()
        guard payload.withUnsafeReadableBytes({ utf8.validate($0) }), utf8.isComplete else {
            return .failure(.dataInconsistentWithMessage, reason: "close reason is not UTF-8")
        }
        return .close(code: code)
    }

    /// Codes a client may send (RFC 6455 7.4 and the IANA registry): 1004-1006 and 1015 are reserved,
    /// 1016-2999 unassigned, 3000-4999 for libraries and applications.
    private static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}
