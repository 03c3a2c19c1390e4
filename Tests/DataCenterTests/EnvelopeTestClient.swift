import ClusterTesting
import DataCenterProtocol
import Foundation
import NIOCore
import XCTest

/// A WebSocket or text-port client that speaks the envelope, for end-to-end tests: it plays an
/// operator, a service, or an agent (answering `job.start` by hand). Messages that arrive while it
/// waits for something else are kept for later waits, so the order of arrival never fails a test.
final class EnvelopeTestClient: @unchecked Sendable {
    private enum Connection {
        case webSocket(WebSocketTestClient)
        case textLines(TextLineTestClient)
    }

    private let connection: Connection
    private var backlog: [InboundMessage] = []
    private var nextID = 0

    private init(_ connection: Connection) {
        self.connection = connection
    }

    static func webSocket(port: Int) async throws -> EnvelopeTestClient {
        EnvelopeTestClient(.webSocket(try await WebSocketTestClient.connect(port: port)))
    }

    static func textPort(port: Int) async throws -> EnvelopeTestClient {
        EnvelopeTestClient(.textLines(try await TextLineTestClient.connect(port: port)))
    }

    /// Connects as an operator (or service) with `token` and checks the reply.
    static func operatorClient(port: Int, token: String) async throws -> EnvelopeTestClient {
        let client = try await webSocket(port: port)
        _ = try await client.call(.authOperator, OperatorAuthRequest(token: token), as: OperatorAuthReply.self)
        return client
    }

    /// Connects as the agent of `host` with `token`, announcing `actions` (and `timers`, when given).
    static func agent(port: Int, host: String, token: String, actions: [ActionSpec], timers: [TimerSpec]? = nil) async throws -> EnvelopeTestClient {
        let client = try await webSocket(port: port)
        let request = AgentAuthRequest(host: host, token: token, agentVersion: "test", actions: actions, timers: timers)
        _ = try await client.call(.authAgent, request, as: AgentAuthReply.self)
        return client
    }

    func sendRaw(_ text: String) async throws {
        switch connection {
        case .webSocket(let socket): try await socket.send(text)
        case .textLines(let lines): try await lines.send(text)
        }
    }

    /// Sends a request and returns its reply.
    func request(_ op: OperationName, _ data: some Encodable & Sendable, timeout: TimeAmount = .seconds(10)) async throws -> InboundMessage {
        try await replyTo(try await post(op, data), timeout: timeout)
    }

    /// Sends a request without waiting for its reply; returns its id.
    func post(_ op: OperationName, _ data: some Encodable & Sendable) async throws -> String {
        nextID += 1
        let id = "t\(nextID)"
        try await sendRaw(Envelope.request(id: id, op: op, data: data))
        return id
    }

    /// Waits for the reply to the posted request `id`.
    func replyTo(_ id: String, timeout: TimeAmount = .seconds(10)) async throws -> InboundMessage {
        try await next(timeout: timeout) { if case .reply(re: id?, _) = $0.kind { return true } else { return false } }
    }

    /// Sends a request and decodes its successful reply; fails the call on an error reply.
    func call<Reply: Decodable>(_ op: OperationName, _ data: some Encodable & Sendable, as type: Reply.Type) async throws -> Reply {
        let reply = try await request(op, data)
        if case .reply(_, let error?) = reply.kind { throw error }
        return try reply.payload(type)
    }

    /// Sends a request that must fail, and returns its error.
    func failure(_ op: OperationName, _ data: some Encodable & Sendable) async throws -> ProtocolError {
        let reply = try await request(op, data)
        guard case .reply(_, let error?) = reply.kind else { throw TestFailure("\(op.rawValue) succeeded: \(String(decoding: reply.bytes, as: UTF8.self))") }
        return error
    }

    /// Waits for the event `name` (kept ones first).
    func event<Payload: Decodable>(_ name: EventName, as type: Payload.Type, timeout: TimeAmount = .seconds(10)) async throws -> Payload {
        try await next(timeout: timeout) { $0.kind == .event(name: name.rawValue) }.payload(type)
    }

    /// Waits for a `job.state` event of `job` in `state` (other events are kept).
    func jobState(_ job: String, _ state: JobState, timeout: TimeAmount = .seconds(10)) async throws -> JobRecord {
        try await next(timeout: timeout) { message in
            guard message.kind == .event(name: EventName.jobState.rawValue), let record = try? message.payload(JobReply.self).job else { return false }
            return record.id == job && record.state == state
        }.payload(JobReply.self).job
    }

    /// Waits for a request `op` from the central side (as an agent).
    func incomingRequest<Payload: Decodable>(_ op: OperationName, as type: Payload.Type, timeout: TimeAmount = .seconds(10)) async throws -> (id: String, data: Payload) {
        let message = try await next(timeout: timeout) { if case .request(_, op.rawValue) = $0.kind { return true } else { return false } }
        guard case .request(let id, _) = message.kind else { throw TestFailure("not a request") }
        return (id, try message.payload(type))
    }

    /// The next message of any kind (kept ones first).
    func nextMessage(timeout: TimeAmount = .seconds(10)) async throws -> InboundMessage {
        try await next(timeout: timeout) { _ in true }
    }

    /// True when nothing matching arrives within `window` (and none is kept).
    func receivesNothing(within window: TimeAmount, matching matches: (InboundMessage) -> Bool) async -> Bool {
        (try? await next(timeout: window, matches)) == nil
    }

    /// Replies as an agent does to a request of the central side.
    func reply(to id: String, _ data: some Encodable & Sendable) async throws {
        try await sendRaw(Envelope.reply(to: id, data: data))
    }

    func sendEvent(_ name: EventName, _ data: some Encodable & Sendable) async throws {
        try await sendRaw(Envelope.event(name, data: data))
    }

    /// Waits until the server closes the connection.
    func waitForClose(timeout: TimeAmount = .seconds(10)) async throws {
        switch connection {
        case .webSocket(let socket): _ = try await socket.waitForClose(timeout: timeout)
        case .textLines(let lines): try await lines.waitForClose(timeout: timeout)
        }
    }

    func close() async {
        switch connection {
        case .webSocket(let socket): await socket.close()
        case .textLines(let lines): await lines.close()
        }
    }

    /// Drops the TCP connection without a goodbye.
    func abort() async {
        switch connection {
        case .webSocket(let socket): await socket.abort()
        case .textLines(let lines): await lines.close()
        }
    }

    private func next(timeout: TimeAmount, _ matches: (InboundMessage) -> Bool) async throws -> InboundMessage {
        if let index = backlog.firstIndex(where: matches) { return backlog.remove(at: index) }
        let deadline = NIODeadline.now() + timeout
        while true {
            let left = deadline - .now()
            guard left > .zero else { throw TestFailure("nothing matching within \(timeout)") }
            let text: String
            switch connection {
            case .webSocket(let socket): text = try await socket.receiveText(timeout: left)
            case .textLines(let lines): text = try await lines.receiveLine(timeout: left)
            }
            let message = try InboundMessage.decode(text).get()
            if matches(message) { return message }
            backlog.append(message)
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
