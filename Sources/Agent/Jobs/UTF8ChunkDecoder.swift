/// Turns a byte stream read in arbitrary pieces into text, holding back a UTF-8 sequence cut at the
/// end of a piece until the next one completes it; bytes that are not UTF-8 become U+FFFD.
struct UTF8ChunkDecoder {
    private var pending: [UInt8] = []

    mutating func decode(_ bytes: some Collection<UInt8>) -> String {
        var all = pending + bytes
        let keep = Self.incompleteTailLength(all)
        pending = Array(all.suffix(keep))
        all.removeLast(keep)
        return String(decoding: all, as: UTF8.self)
    }

    /// What is left when the stream ends.
    mutating func finish() -> String {
        defer { pending = [] }
        return String(decoding: pending, as: UTF8.self)
    }

    /// The number of bytes at the end that start a multi-byte sequence not yet complete.
    private static func incompleteTailLength(_ bytes: [UInt8]) -> Int {
        guard !bytes.isEmpty else { return 0 }
        for back in 1...min(3, bytes.count) {
            let byte = bytes[bytes.count - back]
            if byte & 0xC0 == 0x80 { continue }  // a continuation byte: look further back
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return length > back ? back : 0
        }
        return 0
    }
}
