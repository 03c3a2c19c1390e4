import Wire

/// The gateway's internal text port: newline-delimited messages over plain TCP, for services that
/// can only write lines (shell scripts, cron jobs, monitoring hooks).
///
/// It has no authentication and no TLS: bind it to a loopback or private address that only trusted
/// services reach, never to a public one.
public struct TextPortConfiguration: Sendable {
    /// Where the text port binds; an internal address.
    public var host = "127.0.0.1"
    public var port = 2800
    /// The longest line a client may send, in bytes, not counting `\r\n`; a longer one gets an
    /// error line and the connection is closed.
    public var maxLineLength = TextLineDecoder.defaultMaximumLineLength

    public init() {}

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}
