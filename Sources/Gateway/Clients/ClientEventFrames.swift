import Foundation
import NIOCore
import NIOHTTP1
import Wire

/// Builds the frames that tell a worker about a client's events, stamped with this gateway's addresses.
/// Every event but the connect carries the client's session (``SessionStamp``).
struct ClientEventFrames: Sendable {
    let lanAddress: GatewayAddress
    let publicPort: UInt16

    func connect(_ connection: ClientConnection) -> GatewayFrame {
        frame(.onConnect, connection)
    }

    func webSocketConnect(_ connection: ClientConnection, request: HTTPRequestHead) -> GatewayFrame {
        let target = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let info = WebSocketHandshakeInfo(
            path: String(target.first ?? "/"),
            query: target.count > 1 ? String(target[1]) : "",
            headers: request.headers.map { WebSocketHandshakeInfo.Header(name: $0.name, value: $0.value) },
            remoteAddress: "\(GatewayAddress.formatIPv4(connection.remoteIP)):\(connection.remotePort)"
        )
        // A struct of strings always encodes.
        return frame(.onWebSocketConnect, connection, body: try! ByteBuffer(json: info))
    }

    func message(_ connection: ClientConnection, payload: ByteBuffer, binary: Bool) -> GatewayFrame {
        frame(.onMessage, connection, body: payload, flags: binary ? .binary : [])
    }

    func close(_ connection: ClientConnection) -> GatewayFrame {
        frame(.onClose, connection)
    }

    private func frame(
        _ command: GatewayCommand,
        _ connection: ClientConnection,
        body: ByteBuffer = ByteBuffer(),
        flags: GatewayFrame.Flags = []
    ) -> GatewayFrame {
        GatewayFrame(
            command: command,
            localIP: lanAddress.ip,
            localPort: lanAddress.port,
            clientIP: connection.remoteIP,
            clientPort: connection.remotePort,
            connectionID: connection.number,
            flags: flags,
            gatewayPort: publicPort,
            extData: command == .onConnect ? ByteBuffer() : connection.sessionStamp.extData,
            body: body
        )
    }
}
