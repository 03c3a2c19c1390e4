import ClusterTesting
import DataCenterProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOWebSocket
import XCTest

@testable import DataCenterClient

/// The DataCenter client against real gateways whose worker runs the echo handler: every message
/// comes back to its sender, so the client's own request is delivered to it as a request, its reply
/// comes back as the reply to that request, and its events as events. That exercises correlation,
/// dispatch both ways, a bad frame, TLS verification and failover without a stand-in server.
/// A test handler that hands over each session it opens.
protocol SessionOpening: Sendable {
    var openedSessions: AsyncStream<DataCenterSession> { get }
}

final class DataCenterClientTests: XCTestCase {
    /// Records what the client saw; answers every request with `{"answered": <op>}`.
    final class ReflectingHandler: DataCenterSessionHandler, SessionOpening {
        struct Answer: Codable, Sendable { var answered: String }
        struct Note: Codable, Sendable { var text: String }

        let sessions = NIOLockedValueBox<[DataCenterSession]>([])
        let events = NIOLockedValueBox<[String]>([])
        let authenticated = NIOLockedValueBox<[String]>([])
        let opened: AsyncStream<DataCenterSession>.Continuation
        let openedSessions: AsyncStream<DataCenterSession>

        init() {
            (openedSessions, opened) = AsyncStream.makeStream()
        }

        func authentication() async throws -> (OperationName, any Encodable & Sendable) {
            (.authAgent, AgentAuthRequest(host: "node-t", token: "t", agentVersion: "test", actions: []))
        }

        func sessionOpened(_ session: DataCenterSession, authenticated reply: InboundMessage) async {
            if let answer = try? reply.payload(Answer.self) { authenticated.withLockedValue { $0.append(answer.answered) } }
            opened.yield(session)
            try? await Task.sleep(for: .seconds(3600))
        }

        func handleRequest(_ request: InboundMessage, operation: String, session: DataCenterSession) async throws(ProtocolError) -> any Encodable & Sendable {
            Answer(answered: operation)
        }

        func handleEvent(_ event: InboundMessage, name: String, session: DataCenterSession) async {
            events.withLockedValue { $0.append(name) }
        }
    }

    private var cluster: TestCluster!

    override func setUpWithError() throws {
        cluster = try TestCluster()
    }

    override func tearDown() {
        cluster.stopAll()
    }

    private func startGateways(_ count: Int, extraArguments: [String] = [], plain: Bool = true) throws -> [TestCluster.Gateway] {
        let gateways = try (0..<count).map { _ in try cluster.startGateway(extraArguments: extraArguments, plainWebSocket: plain) }
        let worker = try cluster.startWorker()
        for gateway in gateways { try cluster.waitUntilLinked(worker, to: gateway) }
        return gateways
    }

    private func makeClient(
        _ urls: [String], tls: TLSConfiguration = .makeClientConfiguration(), allowPlain: Bool = true, requestTimeout: Duration = .seconds(10)
    ) throws -> DataCenterClient {
        var configuration = DataCenterClient.Configuration()
        configuration.backoffInitial = .milliseconds(50)
        configuration.backoffMaximum = .milliseconds(500)
        configuration.pingInterval = .milliseconds(300)
        configuration.silenceTimeout = .seconds(3)
        configuration.requestTimeout = requestTimeout
        return DataCenterClient(
            endpoints: try urls.map(GatewayEndpoint.init), connector: try WebSocketConnector(tls: tls, allowPlainWebSocket: allowPlain),
            configuration: configuration, logger: Logger(label: "client-test")
        )
    }

    private func nextSession(_ handler: some SessionOpening, timeout: Duration = .seconds(20)) async throws -> DataCenterSession {
        try await withThrowingTaskGroup(of: DataCenterSession?.self) { group in
            group.addTask {
                var iterator = handler.openedSessions.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let session = try await group.next()! else { throw OperatorConsole.Failure(description: "no session within \(timeout)") }
            return session
        }
    }

    func testRequestsRepliesAndEventsCorrelateAndABadFrameIsNotFatal() async throws {
        let gateway = try startGateways(1)[0]
        let handler = ReflectingHandler()
        let client = try makeClient(["ws://127.0.0.1:\(gateway.publicPort)/"])
        let running = Task { await client.run(handler) }
        defer { running.cancel() }

        let session = try await nextSession(handler)
        XCTAssertEqual(handler.authenticated.withLockedValue { $0 }, ["auth.agent"], "our auth request came back, was answered, and the answer matched it")

        try await session.write("this is not an envelope")
        try await session.write("{\"v\": 2, \"ev\": \"x\"}")
        try await session.send(event: .reportCPU, CPUReport(total: 1, cores: [1]))
        let reply = try await session.request(.jobsRunning, EmptyPayload())
        XCTAssertEqual(try reply.payload(ReflectingHandler.Answer.self).answered, "jobs.running", "the connection survived the bad frames")
        XCTAssertEqual(handler.events.withLockedValue { $0 }, ["report.cpu"])

        let pipelined = try await (0..<20).asyncMap { _ in try await session.post(.jobOutput, EmptyPayload()) }
        for pending in pipelined {
            let answer = try await pending.value()
            XCTAssertEqual(try answer.payload(ReflectingHandler.Answer.self).answered, "job.output")
        }
    }

    /// Two gateways and a client of both; returns its first session and the gateway it is on.
    private func connectToOneOfTwo() async throws -> (gateways: [TestCluster.Gateway], handler: ReflectingHandler, running: Task<Void, Never>, first: DataCenterSession, index: Int) {
        let gateways = try startGateways(2)
        let handler = ReflectingHandler()
        let client = try makeClient(gateways.map { "ws://127.0.0.1:\($0.publicPort)/" })
        let running = Task { await client.run(handler) }
        let first = try await nextSession(handler)
        let index = try XCTUnwrap(gateways.firstIndex { $0.publicPort == first.endpoint.port })
        return (gateways, handler, running, first, index)
    }

    func testMovesToTheOtherGatewayWhenItsGatewayDies() async throws {
        let (gateways, handler, running, first, index) = try await connectToOneOfTwo()
        defer { running.cancel() }
        gateways[index].process.kill()
        do {
            try await first.request(.jobsRunning, EmptyPayload())
            XCTFail("a request on a dead connection must fail")
        } catch {}
        let second = try await nextSession(handler)
        XCTAssertEqual(second.endpoint.port, gateways[1 - index].publicPort)
        let reply = try await second.request(.jobsRunning, EmptyPayload())
        XCTAssertEqual(try reply.payload(ReflectingHandler.Answer.self).answered, "jobs.running")
    }

    func testASilentGatewayIsLeftAfterTheSilenceTimeout() async throws {
        let (gateways, handler, running, _, index) = try await connectToOneOfTwo()
        defer { running.cancel() }
        try gateways[index].process.freeze()
        defer { gateways[index].process.thaw() }
        let began = ContinuousClock.now
        let second = try await nextSession(handler)
        XCTAssertEqual(second.endpoint.port, gateways[1 - index].publicPort)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - began, .seconds(2), "not before the silence timeout (3 s, checked every second)")
    }

    func testSecureGatewayIsVerifiedAndPlainIsRefusedUnlessAllowed() async throws {
        let authority = try TestCertificateAuthority()
        let securePort = freeTCPPort()
        _ = try startGateways(1, extraArguments: [
            "--listen-tls", "127.0.0.1:\(securePort)", "--tls-certificate", authority.serverChainPath, "--tls-key", authority.serverKeyPath,
        ], plain: false)
        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.trustRoots = .file(authority.rootCertificatePath)
        for host in ["localhost", "127.0.0.1"] {
            let channel = try await WebSocketConnector(tls: trusting).connect(to: try GatewayEndpoint("wss://\(host):\(securePort)/"))
            try await channel.channel.close()
        }
        do {
            _ = try await WebSocketConnector().connect(to: try GatewayEndpoint("wss://localhost:\(securePort)/"))
            XCTFail("a certificate not signed by a trusted root must be refused")
        } catch {}
        do {
            _ = try await WebSocketConnector().connect(to: try GatewayEndpoint("ws://127.0.0.1:\(securePort)/"))
            XCTFail("plain ws must be refused unless allowed")
        } catch let failure as WebSocketConnector.Failure {
            XCTAssertTrue("\(failure)".contains("not allowed"))
        }
    }

    /// Answers its own authentication (reflected back by the echo worker) and nothing else, and holds
    /// its session's task past the connection's end, not cancellable, until ``release()``.
    final class HoldingHandler: DataCenterSessionHandler, SessionOpening {
        let opened: AsyncStream<DataCenterSession>.Continuation
        let openedSessions: AsyncStream<DataCenterSession>
        private let hold = NIOLockedValueBox<(released: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

        init() {
            (openedSessions, opened) = AsyncStream.makeStream()
        }

        func release() {
            let waiter = hold.withLockedValue { hold in
                hold.released = true
                defer { hold.waiter = nil }
                return hold.waiter
            }
            waiter?.resume()
        }

        func authentication() async throws -> (OperationName, any Encodable & Sendable) {
            (.authAgent, AgentAuthRequest(host: "node-t", token: "t", agentVersion: "test", actions: []))
        }

        func sessionOpened(_ session: DataCenterSession, authenticated reply: InboundMessage) async {
            opened.yield(session)
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let releasedAlready = hold.withLockedValue { hold in
                    if !hold.released { hold.waiter = waiter }
                    return hold.released
                }
                if releasedAlready { waiter.resume() }
            }
        }

        func handleRequest(_ request: InboundMessage, operation: String, session: DataCenterSession) async throws(ProtocolError) -> any Encodable & Sendable {
            guard operation == OperationName.authAgent.rawValue else {
                try? await Task.sleep(for: .seconds(3600))
                throw ProtocolError(.busy, "never answered")
            }
            return EmptyPayload()
        }

        func handleEvent(_ event: InboundMessage, name: String, session: DataCenterSession) async {}
    }

    /// A request waiting for its reply fails as soon as its connection ends, even while the connection's
    /// own tasks are still busy (here one that ignores cancellation): not at its request timeout.
    func testAPendingRequestFailsWhenItsConnectionEndsNotWhenTheConnectionsTasksDo() async throws {
        let gateway = try startGateways(1)[0]
        let handler = HoldingHandler()
        let client = try makeClient(["ws://127.0.0.1:\(gateway.publicPort)/"], requestTimeout: .seconds(60))
        let running = Task { await client.run(handler) }
        defer {
            handler.release()
            running.cancel()
        }
        let session = try await nextSession(handler)
        let pending = try await session.post(.jobsRunning, EmptyPayload())
        gateway.process.kill()
        do {
            try await pending.value(timeout: .seconds(20))
            XCTFail("a request on a connection that ended was answered")
        } catch {
            XCTAssertTrue(error is DataCenterSession.Closed, "\(error)")
        }
    }

    /// Counts its authentication attempts; its token is one the central side never issued.
    final class WrongTokenHandler: DataCenterSessionHandler {
        let attempts = NIOLockedValueBox(0)
        let opened = NIOLockedValueBox(false)

        func authentication() async throws -> (OperationName, any Encodable & Sendable) {
            attempts.withLockedValue { $0 += 1 }
            return (.authOperator, OperatorAuthRequest(token: "dct_wrong"))
        }

        func sessionOpened(_ session: DataCenterSession, authenticated reply: InboundMessage) async {
            opened.withLockedValue { $0 = true }
        }

        func handleRequest(_ request: InboundMessage, operation: String, session: DataCenterSession) async throws(ProtocolError) -> any Encodable & Sendable {
            EmptyPayload()
        }

        func handleEvent(_ event: InboundMessage, name: String, session: DataCenterSession) async {}
    }

    /// The central side answers a wrong token with auth_failed and closes: the client's `auth.operator`
    /// fails then, not at its request timeout (a minute here), so it has tried again several times
    /// well within the test's bound.
    func testAWrongTokenFailsAtOnceNotAtTheRequestTimeout() async throws {
        let bed = try DataCenterTestBed(hosts: [])
        var configuration = DataCenterClient.Configuration()
        configuration.backoffInitial = .milliseconds(50)
        configuration.backoffMaximum = .milliseconds(200)
        configuration.requestTimeout = .seconds(60)
        let client = DataCenterClient(
            endpoints: [try GatewayEndpoint("ws://127.0.0.1:\(bed.gateways[0].publicPort)/")],
            connector: try WebSocketConnector(allowPlainWebSocket: true), configuration: configuration, logger: Logger(label: "client-test")
        )
        let handler = WrongTokenHandler()
        let running = Task { await client.run(handler) }
        defer { running.cancel() }
        let deadline = ContinuousClock.now + .seconds(20)
        while handler.attempts.withLockedValue({ $0 }) < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertGreaterThanOrEqual(handler.attempts.withLockedValue { $0 }, 3, "each refused attempt waited for its request timeout")
        XCTAssertFalse(handler.opened.withLockedValue { $0 }, "a wrong token opened a session")
    }

    func testEndpointsAndBackoff() throws {
        let endpoint = try GatewayEndpoint("wss://gw.example:8443/agents?x=1")
        XCTAssertEqual(endpoint.host, "gw.example")
        XCTAssertEqual(endpoint.port, 8443)
        XCTAssertEqual(endpoint.path, "/agents?x=1")
        XCTAssertEqual(try GatewayEndpoint("ws://[::1]/").hostHeader, "[::1]:80")
        XCTAssertThrowsError(try GatewayEndpoint("http://gw/"))

        var backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(2))
        var generator = SystemRandomNumberGenerator()
        let delays = (0..<12).map { _ in backoff.nextDelay(using: &generator) }
        for (attempt, delay) in delays.enumerated() {
            XCTAssertLessThanOrEqual(delay, min(.seconds(2), .milliseconds(100) * (1 << attempt)))
            XCTAssertGreaterThanOrEqual(delay, .zero)
        }
        backoff.reset()
        XCTAssertLessThanOrEqual(backoff.nextDelay(), .milliseconds(100))
    }
}

extension Sequence where Element: Sendable {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
