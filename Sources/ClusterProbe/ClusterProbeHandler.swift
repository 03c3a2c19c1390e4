import Foundation
import NIOCore
import Worker

/// A handler that lets a WebSocket client drive the whole cluster API with JSON calls, for
/// end-to-end tests and for poking at a live cluster.
///
/// A client sends `{"id": 1, "call": "bindUID", "args": {"uid": "u1"}}`; the handler makes the call
/// (a missing `client` argument means the current client) and answers
/// `{"id": 1, "result": ...}` or `{"id": 1, "error": "..."}` (with `"partial"`, what the gateways that
/// did answer said, when a count could not be had from all of them). Every worker subscribes to the Channel
/// event `probe`, whose data `{"client": ID, "text": T}` makes it send `T from <worker>` to that client.
/// The call `raise` makes the handler itself throw, to show how a worker reports a failing handler.
/// The call `sleep` answers how many sleeps ran in the worker when it began (itself included).
public struct ClusterProbeHandler: EventHandler {
    private let sleeps = SleepCount()

    public init() {}

    public func onWorkerStart(_ worker: WorkerContext) async throws {
        worker.channel.subscribe("probe") { event, worker in
            guard let client = event.data["client"]?.stringValue.flatMap(ClientID.init),
                let text = event.data["text"]?.stringValue
            else { return }
            try await worker.api.sendToClient(client, .text("\(text) from \(worker.workerKey)"))
        }
    }

    public func onMessage(_ context: EventContext, message: ClientMessage) async throws {
        let request: ProbeCall
        do {
            request = try JSONDecoder().decode(ProbeCall.self, from: Data(message.bytes.readableBytesView))
        } catch {
            try await context.api.sendToCurrentClient(.text(#"{"error":"not a probe call: \#(error)"}"#))
            return
        }
        if request.call == "raise" { throw ProbeCalls.ProbeError(description: "raised on request") }
        var reply: [String: JSONValue] = ["id": request.id]
        do {
            reply["result"] = try await ProbeCalls(context: context, arguments: request.args ?? [:], sleeps: sleeps).perform(request.call)
        } catch let error as IncompleteAnswerError<Int> {
            // What the gateways that did answer said is not lost: counts come back beside the error.
            reply["error"] = .string("\(error)")
            reply["partial"] = .integer(error.partialAnswer)
        } catch {
            reply["error"] = .string("\(error)")
        }
        try await context.api.sendToCurrentClient(.text(String(decoding: try JSONEncoder().encode(JSONValue.object(reply)), as: UTF8.self)))
    }
}

/// One call from a probe client.
struct ProbeCall: Decodable {
    var id: JSONValue
    var call: String
    var args: [String: JSONValue]?
}
