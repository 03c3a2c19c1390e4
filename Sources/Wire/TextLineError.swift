/// Why bytes from a text-port client are not a valid line. The first two end the connection after
/// an error line (``errorLine``); the last is reported when the connection ends mid-line.
public enum TextLineError: Error, Equatable, CustomStringConvertible {
    /// A line is longer than the maximum; detected as soon as the buffered bytes pass it, without
    /// waiting for the newline.
    case lineTooLong(maximum: Int)
    /// A line's bytes are not valid UTF-8.
    case invalidUTF8
    /// The connection ended after a line's first bytes but before its newline; those bytes are dropped.
    case unterminatedLastLine(bufferedBytes: Int)

    public var description: String {
        switch self {
        case .lineTooLong(let maximum):
            return "line too long: max \(maximum) bytes"
        case .invalidUTF8:
            return "line is not valid UTF-8"
        case .unterminatedLastLine(let count):
            return "connection ended in the middle of a line (\(count) bytes without a newline, dropped)"
        }
    }

    /// The line sent to the client before it is closed, without its newline: `ERROR <description>`.
    public var errorLine: String {
        "ERROR \(description)"
    }
}
