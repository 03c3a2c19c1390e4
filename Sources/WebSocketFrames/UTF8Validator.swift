/// Checks UTF-8 as it arrives in pieces (RFC 3629: no overlong forms, no surrogates, nothing above
/// U+10FFFF), so that a text message split into fragments is refused at the first fragment that
/// cannot be UTF-8, and a code point may span two fragments.
struct UTF8Validator {
    /// Continuation bytes still expected for the code point under way.
    private var pending: UInt8 = 0
    /// The range the next continuation byte must fall in (narrower than 80...BF right after some
    /// lead bytes: that is what rules out overlong forms, surrogates and code points past U+10FFFF).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    /// True when what was checked so far ends on a whole code point.
    var isComplete: Bool { pending == 0 }

    /// Checks the next piece; false as soon as a byte shows the text cannot be UTF-8.
    mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        var index = 0
        while index < count {
            if pending == 0 {
                // ASCII fast path: eight bytes at a time while none has its top bit set.
                while index + 8 <= count, bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                }
                guard index < count else { return true }
                let byte = bytes[index]
                index += 1
                if byte < 0x80 { continue }
                guard startCodePoint(byte) else { return false }
            } else {
                let byte = bytes[index]
                index += 1
                guard byte >= lower, byte <= upper else { return false }
                pending -= 1
                lower = 0x80
                upper = 0xBF
            }
        }
        return true
    }

    /// Takes a lead byte; false when no code point starts with it.
    private mutating func startCodePoint(_ byte: UInt8) -> Bool {
        switch byte {
        case 0xC2...0xDF: pending = 1
        case 0xE0: (pending, lower) = (2, 0xA0)
        case 0xE1...0xEC, 0xEE...0xEF: pending = 2
        case 0xED: (pending, upper) = (2, 0x9F)
        case 0xF0: (pending, lower) = (3, 0x90)
        case 0xF1...0xF3: pending = 3
        case 0xF4: (pending, upper) = (3, 0x8F)
        default: return false
        }
        return true
    }
}
