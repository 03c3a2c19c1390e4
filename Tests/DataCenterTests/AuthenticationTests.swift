import ClusterTesting
import DataCenterProtocol
import XCTest

/// Authentication and bad input against a real cluster: every mistake gets its own error code.
final class AuthenticationTests: DataCenterTestCase {
    override func setUp() async throws {
        dataCenter = try DataCenterTestCluster()
    }

    func testRequestBeforeAuthenticationGetsAuthRequiredAndClose() async throws {
        let client = try await EnvelopeTestClient.webSocket(port: dataCenter.gateway.publicPort)
        let error = try await client.failure(.hostsList, EmptyPayload())
        XCTAssertEqual(error.code, .authRequired)
        try await client.waitForClose()
    }

    func testWrongTokenGetsAuthFailedAndClose() async throws {
        let client = try await EnvelopeTestClient.webSocket(port: dataCenter.gateway.publicPort)
        let error = try await client.failure(.authOperator, OperatorAuthRequest(token: "dct_wrong"))
        XCTAssertEqual(error.code, .authFailed)
        try await client.waitForClose()

        // A host token is only good for its own host.
        let agent = try await EnvelopeTestClient.webSocket(port: dataCenter.gateway.publicPort)
        let token = try XCTUnwrap(dataCenter.agentTokens["node-1"])
        let wrongHost = try await agent.failure(.authAgent, AgentAuthRequest(host: "node-2", token: token, agentVersion: "t", actions: []))
        XCTAssertEqual(wrongHost.code, .authFailed)
        try await agent.waitForClose()
    }

    func testMalformedEnvelopeAndVersionAndUnknownOperation() async throws {
        let client = try await dataCenter.operatorClient()
        try await client.sendRaw("not json")
        var reply = try await client.nextMessage()
        XCTAssertEqual(reply.kind, .reply(re: nil, error: ProtocolError(.badRequest, "not a JSON object")))

        try await client.sendRaw(#"{"v":2,"id":"x","op":"hosts.list"}"#)
        reply = try await client.nextMessage()
        guard case .reply(nil, let error?) = reply.kind else { return XCTFail("not an error reply: \(reply.kind)") }
        XCTAssertEqual(error.code, .unsupportedVersion)

        try await client.sendRaw(#"{"v":1,"id":"u","op":"hosts.explode","data":{}}"#)
        reply = try await client.nextMessage()
        guard case .reply("u", let unknown?) = reply.kind else { return XCTFail("not an error reply: \(reply.kind)") }
        XCTAssertEqual(unknown.code, .unknownOperation)

        let missingField = try await client.failure(.hostsShow, EmptyPayload())
        XCTAssertEqual(missingField, ProtocolError(.badRequest, "missing field 'host'"))
        let noSuchHost = try await client.failure(.hostsShow, HostQuery(host: "nowhere"))
        XCTAssertEqual(noSuchHost.code, .notFound)

        // Still connected and answering after all of that.
        let hosts = try await client.call(.hostsList, EmptyPayload(), as: HostsListReply.self)
        XCTAssertEqual(hosts.hosts, [])
    }

    func testMalformedFirstMessageIsRefusedAndClosed() async throws {
        let client = try await EnvelopeTestClient.webSocket(port: dataCenter.gateway.publicPort)
        try await client.sendRaw("{")
        let reply = try await client.nextMessage()
        guard case .reply(nil, let error?) = reply.kind else { return XCTFail("not an error reply: \(reply.kind)") }
        XCTAssertEqual(error.code, .badRequest)
        try await client.waitForClose()
    }

    func testRolesAreEnforced() async throws {
        let agent = try await dataCenter.agent()
        let error = try await agent.failure(.jobsRun, JobsRunRequest(host: "node-1", action: "uptime"))
        XCTAssertEqual(error.code, .forbidden)

        let person = try await dataCenter.operatorClient()
        let notForOperators = try await person.failure(.jobOutput, OutputChunk(job: "j", seq: 0, stream: .stdout, data: "x"))
        XCTAssertEqual(notForOperators.code, .forbidden)
        let again = try await person.failure(.authOperator, OperatorAuthRequest(token: dataCenter.operatorToken))
        XCTAssertEqual(again.code, .conflict)
    }
}
