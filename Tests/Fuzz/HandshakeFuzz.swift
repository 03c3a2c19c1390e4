// libFuzzer target (Deploy/fuzz.sh): what a peer sends before it is trusted: link handshake messages
// (JSON bodies) and a WebSocket handshake's query and headers as the gateway passes them to workers.
// Compiled into one module with Wire's sources, so it calls them without an import.
import Foundation
import NIOCore

/// The input as a handshake frame body of every kind, and as `path?query` then header lines.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHandshake(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let frame = GatewayFrame(command: .workerConnect, body: ByteBuffer(bytes: bytes))
    if let hello = frame.handshakeMessage(as: LinkHello.self) {
        precondition(GatewayFrame.handshake(.workerConnect, hello).handshakeMessage(as: LinkHello.self) == hello, "hello round trip")
    }
    _ = frame.handshakeMessage(as: LinkChallenge.self)
    _ = frame.handshakeMessage(as: LinkProof.self)
    _ = frame.handshakeMessage(as: HandshakeResult.self)

    let text = String(decoding: bytes, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let target = lines.isEmpty ? "" : String(lines.removeFirst())
    let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    let headers = lines.map { line -> WebSocketHandshakeInfo.Header in
        let pair = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        return .init(name: String(pair[0]), value: pair.count > 1 ? String(pair[1]) : "")
    }
    let info = WebSocketHandshakeInfo(
        path: String(parts.first ?? ""),
        query: parts.count > 1 ? String(parts[1]) : "",
        headers: headers,
        remoteAddress: "127.0.0.1:1"
    )
    _ = info.queryParameters
    _ = info.header("Sec-WebSocket-Key")
    let body = try! JSONEncoder().encode(info)
    precondition((try? JSONDecoder().decode(WebSocketHandshakeInfo.self, from: body)) == info, "handshake info round trip")
    return 0
}
