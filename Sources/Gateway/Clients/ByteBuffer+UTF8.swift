import NIOCore

extension ByteBuffer {
    /// True when the readable bytes are well-formed UTF-8 (no overlong forms, surrogates or code
    /// points above U+10FFFF), as RFC 6455 requires of a text message. Reads in place, no copy.
    var isValidUTF8: Bool {
        var bytes = readableBytesView.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
