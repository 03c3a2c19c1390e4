import Foundation

/// One HTTP/1.1 response read off a raw socket, for checking exactly what the gateway sent.
struct RawHTTPResponse {
    var status: Int
    /// Header names lower-cased.
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// Every response in `bytes`, in order; bodies are delimited by Content-Length (a response to
    /// HEAD carries the length of a body it does not send: name those with `headRequests`).
    static func parseAll(_ bytes: [UInt8], headRequests: Set<Int> = []) throws -> [RawHTTPResponse] {
        var responses: [RawHTTPResponse] = []
        var rest = bytes[...]
        let separator = Array("\r\n\r\n".utf8)
        while !rest.isEmpty {
            guard let end = rest.firstRange(of: separator) else { throw ParseError(String(decoding: rest, as: UTF8.self)) }
            let lines = String(decoding: rest[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
            let statusParts = lines[0].split(separator: " ")
            guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ParseError(lines[0]) }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { throw ParseError(line) }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            rest = rest[end.upperBound...]
            let length = headRequests.contains(responses.count) || status == 304 ? 0 : Int(headers["content-length"] ?? "0") ?? 0
            guard rest.count >= length else { throw ParseError("body shorter than \(length) bytes") }
            responses.append(RawHTTPResponse(status: status, headers: headers, body: Array(rest.prefix(length))))
            rest = rest.dropFirst(length)
        }
        return responses
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = "unparsable HTTP response: \(description)" }
    }
}
