import ClusterTesting
import Foundation
import NIOCore
import Wire

/// A WebSocket client of the probe handler: makes cluster API calls as JSON and keeps the other
/// messages it receives (pushes from other clients' calls) for ``nextPush(timeout:)``.
final class ProbeClient: @unchecked Sendable {
    let socket: WebSocketTestClient
    /// This client's id, from a `whoami` call.
    private(set) var id: ClientID!
    private var nextCallID = 1
    private var pushes: [String] = []

    struct CallError: Error, CustomStringConvertible {
        let description: String
    }

    static func connect(port: Int) async throws -> ProbeClient {
        let client = ProbeClient(socket: try await WebSocketTestClient.connect(port: port))
        let whoami = try await client.call("whoami")
        client.id = ClientID(whoami["client"]?.stringValue ?? "")
        return client
    }

    private init(socket: WebSocketTestClient) {
        self.socket = socket
    }

    /// Makes a call and returns its result; throws with the handler's error text.
    @discardableResult
    func call(_ name: String, _ arguments: [String: JSONValue] = [:], timeout: TimeAmount = .seconds(10)) async throws -> JSONValue {
        let callID = nextCallID
        nextCallID += 1
        let request: JSONValue = ["id": .integer(callID), "call": .string(name), "args": .object(arguments)]
        try await socket.send(String(decoding: try JSONEncoder().encode(request), as: UTF8.self))
        while true {
            let text = try await socket.receiveText(timeout: timeout)
            guard let reply = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), reply["id"]?.intValue == callID else {
                pushes.append(text)
                continue
            }
            if let error = reply["error"]?.stringValue { throw CallError(description: error) }
            return reply["result"] ?? .null
        }
    }

    /// The next message that is not a call's reply.
    func nextPush(timeout: TimeAmount = .seconds(5)) async throws -> String {
        if !pushes.isEmpty { return pushes.removeFirst() }
        return try await socket.receiveText(timeout: timeout)
    }
}

extension JSONValue {
    /// The strings of an array value, sorted (for order-free comparisons).
    var sortedStrings: [String] {
        (arrayValue ?? []).compactMap(\.stringValue).sorted()
    }
}
