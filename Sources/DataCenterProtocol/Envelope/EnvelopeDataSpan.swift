/// Where the `data` member of an envelope lies, found by a scan of the bytes that only follows JSON's
/// structure (strings, nesting), so the envelope's own fields and its data are each decoded once,
/// apart, rather than the whole message twice.
///
/// The scan does not validate: the two parts it splits the message into are decoded by `JSONDecoder`,
/// which does. Anything it is not sure of (not an object, a key with an escape, `data` twice, a
/// structure it cannot follow) gives nil, and the message is decoded whole.
enum EnvelopeDataSpan {
    /// The result of a scan: the byte offsets of the `data` value, or none when there is no `data`.
    struct Found: Equatable {
        let data: Range<Int>?
    }

    static func scan(_ bytes: UnsafeRawBufferPointer) -> Found? {
        var scanner = Scanner(bytes: bytes)
        return scanner.topLevel()
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        mutating func topLevel() -> Found? {
            skipWhitespace()
            guard next() == UInt8(ascii: "{") else { return nil }
            var data: Range<Int>?
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipWhitespace()
                    guard peek() == UInt8(ascii: "\""), let key = string(), !key.contains(UInt8(ascii: "\\")) else { return nil }
                    skipWhitespace()
                    guard next() == UInt8(ascii: ":") else { return nil }
                    skipWhitespace()
                    let start = index
                    guard value() else { return nil }
                    if key.elementsEqual("data".utf8) {
                        guard data == nil else { return nil }
                        data = start..<index
                    }
                    skipWhitespace()
                    switch next() {
                    case UInt8(ascii: ","): continue
                    case UInt8(ascii: "}"): break
                    default: return nil
                    }
                    break
                }
            }
            skipWhitespace()
            return index == bytes.count ? Found(data: data) : nil
        }

        /// Skips a string starting at its quote; returns its bytes between the quotes, escapes as written.
        private mutating func string() -> UnsafeRawBufferPointer.SubSequence? {
            index += 1
            let start = index
            while let byte = next() {
                if byte == UInt8(ascii: "\\") {
                    guard next() != nil else { return nil }
                } else if byte == UInt8(ascii: "\"") {
                    return bytes[start..<(index - 1)]
                }
            }
            return nil
        }

        /// Skips one value of any kind.
        private mutating func value() -> Bool {
            switch peek() {
            case UInt8(ascii: "\"")?:
                return string() != nil
            case UInt8(ascii: "{")?, UInt8(ascii: "[")?:
                // The open brackets, innermost in bit 0 (1 for an object); deeper than 64 is left to the decoder.
                var open: UInt64 = 0
                var depth = 0
                while let byte = peek() {
                    switch byte {
                    case UInt8(ascii: "\""):
                        guard string() != nil else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        guard depth < 64 else { return false }
                        open = open << 1 | (byte == UInt8(ascii: "{") ? 1 : 0)
                        depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        guard open & 1 == (byte == UInt8(ascii: "}") ? 1 : 0) else { return false }
                        open >>= 1
                        depth -= 1
                    default: break
                    }
                    index += 1
                    if depth == 0 { return true }
                }
                return false
            case nil:
                return false
            default:
                // A number, true, false or null: up to the next delimiter.
                let start = index
                while let byte = peek(), !Self.isDelimiter(byte) { index += 1 }
                return index > start
            }
        }

        private static func isDelimiter(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                true
            default:
                false
            }
        }

        private func peek() -> UInt8? {
            index < bytes.count ? bytes[index] : nil
        }

        private mutating func next() -> UInt8? {
            defer { index += 1 }
            return peek()
        }

        private mutating func skipWhitespace() {
            while let byte = peek(), byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t") {
                index += 1
            }
        }
    }
}
