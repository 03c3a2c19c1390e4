import ClusterTesting
import Foundation
import NIOCore
import XCTest

/// An operator connection for end-to-end tests: authenticates with an operator token, makes
/// requests, and keeps the events that arrive meanwhile for later waits.
final class OperatorConsole {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let client: WebSocketTestClient
    private var nextID = 0
    private(set) var events: [(name: String, data: [String: Any])] = []

    private init(client: WebSocketTestClient) {
        self.client = client
    }

    static func connect(port: Int, token: String) async throws -> OperatorConsole {
        let console = OperatorConsole(client: try await WebSocketTestClient.connect(port: port))
        _ = try await console.call("auth.operator", ["token": token])
        return console
    }

    /// Sends a request and returns its reply's `data`; throws with the error code when it failed.
    @discardableResult
    func call(_ op: String, _ data: [String: Any] = [:], timeout: TimeAmount = .seconds(20)) async throws -> [String: Any] {
        let reply = try await request(op, data, timeout: timeout)
        guard reply["ok"] as? Bool == true else {
            let error = reply["error"] as? [String: Any]
            throw Failure(description: "\(error?["code"] as? String ?? "?"): \(error?["message"] as? String ?? "")")
        }
        return reply["data"] as? [String: Any] ?? [:]
    }

    /// The error code of a request that must fail.
    func errorCode(_ op: String, _ data: [String: Any] = [:]) async throws -> String? {
        let reply = try await request(op, data, timeout: .seconds(20))
        return (reply["error"] as? [String: Any])?["code"] as? String
    }

    /// Waits for an event matching `predicate` (kept ones first), and returns its data.
    @discardableResult
    func waitForEvent(_ name: String, timeout: Duration = .seconds(20), where predicate: ([String: Any]) -> Bool = { _ in true }) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let index = events.firstIndex(where: { $0.name == name && predicate($0.data) }) {
                return events.remove(at: index).data
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw Failure(description: "no \(name) event within \(timeout)") }
            try await receiveOne(timeout: .nanoseconds(left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000))
        }
    }

    /// Every `job.output` of `job` received until its `job.state` is final; returns (chunks by arrival, final record).
    func waitForJobEnd(_ job: String, timeout: Duration = .seconds(30)) async throws -> [String: Any] {
        let state = try await waitForEvent("job.state", timeout: timeout) { data in
            let record = data["job"] as? [String: Any]
            return record?["id"] as? String == job && !["queued", "running"].contains(record?["state"] as? String ?? "")
        }
        return state["job"] as? [String: Any] ?? [:]
    }

    func close() async {
        await client.close()
    }

    private func request(_ op: String, _ data: [String: Any], timeout: TimeAmount) async throws -> [String: Any] {
        nextID += 1
        let id = "t\(nextID)"
        let text = String(decoding: try JSONSerialization.data(withJSONObject: ["v": 1, "id": id, "op": op, "data": data]), as: UTF8.self)
        try await client.send(text)
        while true {
            if let reply = try await receiveOne(timeout: timeout), reply["re"] as? String == id { return reply }
        }
    }

    /// Reads one message; events are kept, a reply is returned.
    @discardableResult
    private func receiveOne(timeout: TimeAmount) async throws -> [String: Any]? {
        let text = try await client.receiveText(timeout: timeout)
        guard let message = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        if let event = message["ev"] as? String {
            events.append((event, message["data"] as? [String: Any] ?? [:]))
            return nil
        }
        return message
    }
}
