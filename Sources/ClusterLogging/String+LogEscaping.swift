extension String {
    /// The longest peer-supplied text a log line carries; the rest is cut and marked.
    public static let maximumLoggedPeerTextLength = 256

    /// This text, from a peer (a worker's name, a path, a header), made safe for a log line: control
    /// characters (newlines included) and line separators become escapes such as `\n` or `\u{1B}`,
    /// so the text cannot forge or break a line; it is cut at ``maximumLoggedPeerTextLength`` characters.
    public var escapedForLog: String {
        var result = ""
        for (index, scalar) in unicodeScalars.enumerated() {
            guard index < Self.maximumLoggedPeerTextLength else {
                result += "…(\(unicodeScalars.count - index) more)"
                break
            }
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}":
                result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
