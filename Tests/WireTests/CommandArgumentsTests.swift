import Foundation
import NIOCore
import Wire
import XCTest

/// Pins the JSON wire format of command arguments and query answers: the keys are a protocol between
/// gateways and workers of possibly different builds, so a rename must break a test.
final class CommandArgumentsTests: XCTestCase {
    /// The bytes a frame carries (sorted keys).
    private func json(_ value: some Encodable) throws -> String {
        String(buffer: try ByteBuffer(json: value))
    }

    private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try ByteBuffer(string: json).decodeJSON(as: type)
    }

    // MARK: - SendToAll

    func testSendToAllKeys() throws {
        XCTAssertEqual(try json(CommandArguments.SendToAll(clients: [1, 2], exclude: [3])), #"{"clients":[1,2],"exclude":[3]}"#)
        XCTAssertEqual(try json(CommandArguments.SendToAll(clients: [4294967295])), #"{"clients":[4294967295]}"#)
        XCTAssertEqual(try json(CommandArguments.SendToAll(exclude: [])), #"{"exclude":[]}"#)
    }

    func testSendToAllWithNothingGivenIsAnEmptyObject() throws {
        XCTAssertEqual(try json(CommandArguments.SendToAll()), "{}")
        XCTAssertEqual(try decode(CommandArguments.SendToAll.self, "{}"), CommandArguments.SendToAll())
        XCTAssertEqual(try decode(CommandArguments.SendToAll.self, #"{"clients":null}"#), CommandArguments.SendToAll())
    }

    func testSendToAllDistinguishesNoListFromAnEmptyList() throws {
        // No `clients` means everyone; an empty `clients` means no one.
        let empty = try decode(CommandArguments.SendToAll.self, #"{"clients":[]}"#)
        XCTAssertEqual(empty.clients, [])
        XCTAssertNil(try decode(CommandArguments.SendToAll.self, "{}").clients)
    }

    func testSendToAllDecodes() throws {
        XCTAssertEqual(
            try decode(CommandArguments.SendToAll.self, #"{"exclude":[9],"clients":[7,8]}"#),
            CommandArguments.SendToAll(clients: [7, 8], exclude: [9])
        )
        XCTAssertThrowsError(try decode(CommandArguments.SendToAll.self, #"{"clients":[-1]}"#))
        XCTAssertThrowsError(try decode(CommandArguments.SendToAll.self, #"{"clients":[4294967296]}"#))
    }

    // MARK: - SendToGroup

    func testSendToGroupKeys() throws {
        XCTAssertEqual(try json(CommandArguments.SendToGroup(groups: ["room-1"])), #"{"groups":["room-1"]}"#)
        XCTAssertEqual(
            try json(CommandArguments.SendToGroup(groups: ["a", "b/c"], exclude: [5])),
            #"{"exclude":[5],"groups":["a","b/c"]}"#
        )
    }

    func testSendToGroupRequiresGroups() throws {
        XCTAssertThrowsError(try decode(CommandArguments.SendToGroup.self, "{}"))
        XCTAssertThrowsError(try decode(CommandArguments.SendToGroup.self, #"{"exclude":[1]}"#))
        XCTAssertEqual(
            try decode(CommandArguments.SendToGroup.self, #"{"groups":["g"],"exclude":[1]}"#),
            CommandArguments.SendToGroup(groups: ["g"], exclude: [1])
        )
    }

    // MARK: - Select

    func testSelectKeys() throws {
        let select = CommandArguments.Select(groups: ["g"], uids: ["u"], clients: [4], withSessions: true)
        XCTAssertEqual(try json(select), #"{"clients":[4],"groups":["g"],"uids":["u"],"withSessions":true}"#)
    }

    func testSelectWithNoConditionsStillSaysWhetherToIncludeSessions() throws {
        XCTAssertEqual(try json(CommandArguments.Select()), #"{"withSessions":false}"#)
        XCTAssertEqual(try decode(CommandArguments.Select.self, #"{"withSessions":false}"#), CommandArguments.Select())
    }

    func testSelectRoundTrip() throws {
        let samples = [
            CommandArguments.Select(),
            CommandArguments.Select(groups: [], withSessions: true),
            CommandArguments.Select(uids: ["u1", "u2"]),
            CommandArguments.Select(groups: ["a"], clients: [1, .max]),
        ]
        for select in samples {
            XCTAssertEqual(try ByteBuffer(json: select).decodeJSON(as: CommandArguments.Select.self), select)
        }
    }

    // MARK: - ClientRecord

    func testClientRecordKeys() throws {
        let record = CommandArguments.ClientRecord(uid: "u1", groups: ["a", "b"], session: ["k": "v"])
        XCTAssertEqual(try json(record), #"{"groups":["a","b"],"session":{"k":"v"},"uid":"u1"}"#)
    }

    func testClientRecordOmitsAMissingUIDAndSession() throws {
        let record = CommandArguments.ClientRecord(uid: nil, groups: [], session: nil)
        XCTAssertEqual(try json(record), #"{"groups":[]}"#)
        XCTAssertEqual(try decode(CommandArguments.ClientRecord.self, #"{"groups":[]}"#), record)
    }

    func testClientRecordRoundTrip() throws {
        let samples = [
            CommandArguments.ClientRecord(uid: "u", groups: ["g"], session: ["n": ["deep": [1, 2.5]]]),
            CommandArguments.ClientRecord(uid: nil, groups: ["x", "y"], session: [:]),
            CommandArguments.ClientRecord(uid: "", groups: [], session: nil),
        ]
        for record in samples {
            XCTAssertEqual(try ByteBuffer(json: record).decodeJSON(as: CommandArguments.ClientRecord.self), record)
        }
    }

    func testSelectAnswerIsKeyedByClientIDText() throws {
        let answer: [String: CommandArguments.ClientRecord] = [
            "7f0000010b5400000001": .init(uid: "u1", groups: ["g"], session: nil)
        ]
        XCTAssertEqual(
            try json(QueryAnswer.success(answer)),
            #"{"value":{"7f0000010b5400000001":{"groups":["g"],"uid":"u1"}}}"#
        )
    }

    // MARK: - SessionAnswer

    func testSessionAnswerKeys() throws {
        XCTAssertEqual(try json(CommandArguments.SessionAnswer(session: ["uid": "u1", "n": 2])), #"{"session":{"n":2,"uid":"u1"}}"#)
        XCTAssertEqual(try json(CommandArguments.SessionAnswer(session: [:])), #"{"session":{}}"#)
    }

    func testSessionAnswerForAnAbsentClientIsAnEmptyObject() throws {
        XCTAssertEqual(try json(CommandArguments.SessionAnswer(session: nil)), "{}")
        XCTAssertEqual(try decode(CommandArguments.SessionAnswer.self, "{}"), CommandArguments.SessionAnswer(session: nil))
        XCTAssertEqual(try decode(CommandArguments.SessionAnswer.self, #"{"session":null}"#), CommandArguments.SessionAnswer(session: nil))
    }

    func testSessionAnswerTellsAnEmptySessionFromNone() throws {
        let empty = try decode(CommandArguments.SessionAnswer.self, #"{"session":{}}"#)
        XCTAssertEqual(empty.session, [:])
        let none = try decode(CommandArguments.SessionAnswer.self, "{}")
        XCTAssertNil(none.session)
    }

    // MARK: - QueryAnswer

    func testQueryAnswerSuccessCarriesOnlyTheValue() throws {
        XCTAssertEqual(try json(QueryAnswer.success(true)), #"{"value":true}"#)
        XCTAssertEqual(try json(QueryAnswer.success(false)), #"{"value":false}"#)
        XCTAssertEqual(try json(QueryAnswer.success(0)), #"{"value":0}"#)
        XCTAssertEqual(try json(QueryAnswer.success(["a", "b"])), #"{"value":["a","b"]}"#)
        XCTAssertEqual(try json(QueryAnswer.success(["g": 3])), #"{"value":{"g":3}}"#)
        XCTAssertEqual(
            try json(QueryAnswer.success(CommandArguments.SessionAnswer(session: nil))),
            #"{"value":{}}"#,
            "an absent client is still a success, with a value"
        )
    }

    func testQueryAnswerFailureCarriesOnlyTheError() throws {
        XCTAssertEqual(try json(QueryAnswer<Bool>.failure("no such group")), #"{"error":"no such group"}"#)
        XCTAssertEqual(try json(QueryAnswer<[String]>.failure("")), #"{"error":""}"#)
    }

    func testQueryAnswerDecodes() throws {
        let success = try decode(QueryAnswer<Int>.self, #"{"value":3}"#)
        XCTAssertEqual(success.value, 3)
        XCTAssertNil(success.error)
        let failure = try decode(QueryAnswer<Int>.self, #"{"error":"boom"}"#)
        XCTAssertNil(failure.value)
        XCTAssertEqual(failure.error, "boom")
    }

    func testAFailureDecodesAsTheAnswerOfAnyQuery() throws {
        // The gateway writes every failure as a QueryAnswer<Bool>, whatever the query was.
        let bytes = try ByteBuffer(json: QueryAnswer<Bool>.failure("gateway is stopping"))
        XCTAssertEqual(try bytes.decodeJSON(as: QueryAnswer<CommandArguments.SessionAnswer>.self).error, "gateway is stopping")
        XCTAssertEqual(try bytes.decodeJSON(as: QueryAnswer<[String: CommandArguments.ClientRecord]>.self).error, "gateway is stopping")
        XCTAssertEqual(try bytes.decodeJSON(as: QueryAnswer<[String]>.self).error, "gateway is stopping")
        XCTAssertNil(try bytes.decodeJSON(as: QueryAnswer<Int>.self).value)
    }

    func testQueryAnswerOfTheWrongTypeDoesNotDecode() {
        XCTAssertThrowsError(try decode(QueryAnswer<Int>.self, #"{"value":"three"}"#))
        XCTAssertThrowsError(try decode(QueryAnswer<Bool>.self, #"{"value":1}"#))
    }

    func testQueryAnswerRoundTrip() throws {
        let session: [String: JSONValue] = ["uid": "u1", "groups": ["a"], "score": 1.5]
        let bytes = try ByteBuffer(json: QueryAnswer.success(CommandArguments.SessionAnswer(session: session)))
        let decoded = try bytes.decodeJSON(as: QueryAnswer<CommandArguments.SessionAnswer>.self)
        XCTAssertEqual(decoded.value, CommandArguments.SessionAnswer(session: session))
        XCTAssertNil(decoded.error)
    }
}
