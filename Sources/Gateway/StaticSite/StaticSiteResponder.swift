import Foundation
import NIOCore
import NIOHTTP1

/// The answer to one plain HTTP request for a ``StaticSite``: GET and HEAD of a file the site has
/// (304 when the client's `If-None-Match` names its current version), 404 for any other path, 405
/// for any other method. Pure: the handshake guard writes what it returns.
struct StaticSiteResponder {
    struct Response {
        var head: HTTPResponseHead
        /// nil for HEAD and 304: the head still describes the body that a GET would get.
        var body: ByteBuffer?
    }

    /// Who may load what on a page of the site: only its own origin (its scripts, and its WebSocket
    /// on the same host), and it may not be framed by another site.
    static let contentSecurityPolicy =
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

    let site: StaticSite

    func respond(to request: HTTPRequestHead) -> Response {
        var response = answer(request)
        if request.method == .HEAD { response.body = nil }
        return response
    }

    private func answer(_ request: HTTPRequestHead) -> Response {
        guard request.method == .GET || request.method == .HEAD else {
            var response = Self.text(.methodNotAllowed, "Only GET and HEAD are served here.\n", version: request.version)
            response.head.headers.add(name: "Allow", value: "GET, HEAD")
            return response
        }
        guard let path = Self.path(of: request.uri), let file = site.file(at: path) else {
            return Self.text(.notFound, "Not found.\n", version: request.version)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: file.contentType)
        headers.add(name: "Content-Length", value: "\(file.body.readableBytes)")
        headers.add(name: "ETag", value: file.entityTag)
        headers.add(name: "Cache-Control", value: file.cacheControl)
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        if file.contentType.hasPrefix("text/html") {
            headers.add(name: "Content-Security-Policy", value: Self.contentSecurityPolicy)
        }
        if Self.matches(request.headers[canonicalForm: "if-none-match"], file.entityTag) {
            headers.replaceOrAdd(name: "Content-Length", value: "0")
            return Response(head: HTTPResponseHead(version: request.version, status: .notModified, headers: headers), body: nil)
        }
        return Response(head: HTTPResponseHead(version: request.version, status: .ok, headers: headers), body: file.body)
    }

    /// The decoded path of a request target (`/a%20b.js?x=1` is `/a b.js`); nil when it is not an
    /// absolute path or does not decode.
    static func path(of uri: String) -> String? {
        let target = uri.prefix { $0 != "?" && $0 != "#" }
        guard target.hasPrefix("/"), let decoded = target.removingPercentEncoding else { return nil }
        return decoded
    }

    /// Whether an `If-None-Match` list names `entityTag` (weak comparison, as RFC 9110 asks for GET).
    private static func matches(_ candidates: [Substring], _ entityTag: String) -> Bool {
        candidates.contains { candidate in
            let tag = candidate.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == entityTag || tag == "W/" + entityTag
        }
    }

    private static func text(_ status: HTTPResponseStatus, _ text: String, version: HTTPVersion) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(text.utf8.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        return Response(head: HTTPResponseHead(version: version, status: status, headers: headers), body: ByteBuffer(string: text))
    }
}
