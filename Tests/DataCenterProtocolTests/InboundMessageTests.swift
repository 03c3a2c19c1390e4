import DataCenterProtocol
import XCTest

final class InboundMessageTests: XCTestCase {
    func testRequestIsReadWithItsIdAndOperation() throws {
        let message = try InboundMessage.decode(#"{"v":1,"id":"7","op":"jobs.run","data":{"host":"node-7","action":"vps.restart","params":{"vps":"vps101"}}}"#).get()
        XCTAssertEqual(message.kind, .request(id: "7", op: "jobs.run"))
        let run = try message.payload(JobsRunRequest.self)
        XCTAssertEqual(run, JobsRunRequest(host: "node-7", action: "vps.restart", params: ["vps": "vps101"]))
    }

    func testReplyAndEventAreTold() throws {
        XCTAssertEqual(try InboundMessage.decode(#"{"v":1,"re":"7","ok":true,"data":{}}"#).get().kind, .reply(re: "7", error: nil))
        XCTAssertEqual(
            try InboundMessage.decode(#"{"v":1,"re":null,"ok":false,"error":{"code":"bad_request","message":"x"}}"#).get().kind,
            .reply(re: nil, error: ProtocolError(.badRequest, "x")))
        XCTAssertEqual(try InboundMessage.decode(#"{"v":1,"ev":"report.cpu","data":{"total":3,"cores":[3]}}"#).get().kind, .event(name: "report.cpu"))
    }

    func testNotAnObjectIsBadRequest() {
        for text in ["", "hello", "[1,2]", "42", #"{"v":1"#] {
            XCTAssertEqual(failure(text), InboundMessage.DecodingFailure(re: nil, error: ProtocolError(.badRequest, "not a JSON object")), text)
        }
    }

    func testMissingOrMistypedVersionIsBadRequest() {
        XCTAssertEqual(failure(#"{"id":"1","op":"hosts.list"}"#)?.error.code, .badRequest)
        XCTAssertEqual(failure(#"{"v":"1","id":"1","op":"hosts.list"}"#)?.error.code, .badRequest)
    }

    func testOtherVersionIsUnsupported() {
        XCTAssertEqual(failure(#"{"v":2,"id":"1","op":"hosts.list"}"#)?.error.code, .unsupportedVersion)
        XCTAssertEqual(failure(#"{"v":1.5,"id":"1","op":"hosts.list"}"#)?.error.code, .unsupportedVersion)
    }

    func testRequestIdMustBeAShortString() {
        XCTAssertEqual(failure(#"{"v":1,"id":7,"op":"hosts.list"}"#)?.error.code, .badRequest)
        XCTAssertEqual(failure(#"{"v":1,"id":"","op":"hosts.list"}"#)?.error.code, .badRequest)
        let long = String(repeating: "x", count: 65)
        XCTAssertEqual(failure(#"{"v":1,"id":"\#(long)","op":"hosts.list"}"#)?.error.code, .badRequest)
        XCTAssertNotNil(try? InboundMessage.decode(#"{"v":1,"id":"\#(String(long.dropLast()))","op":"hosts.list"}"#).get())
    }

    func testRequestWithoutOperationNamesItsId() {
        XCTAssertEqual(failure(#"{"v":1,"id":"9"}"#), InboundMessage.DecodingFailure(re: "9", error: ProtocolError(.badRequest, "a request needs a string 'op'")))
    }

    func testNeitherKindIsBadRequest() {
        XCTAssertEqual(failure(#"{"v":1,"data":{}}"#)?.error.code, .badRequest)
        XCTAssertEqual(failure(#"{"v":1,"re":"1"}"#)?.error.code, .badRequest)
    }

    func testMissingFieldIsNamed() throws {
        let message = try InboundMessage.decode(#"{"v":1,"id":"1","op":"jobs.run","data":{"host":"a"}}"#).get()
        XCTAssertThrowsError(try message.payload(JobsRunRequest.self)) { error in
            XCTAssertEqual(error as? ProtocolError, ProtocolError(.badRequest, "missing field 'action'"))
        }
    }

    func testMistypedFieldIsNamed() throws {
        let message = try InboundMessage.decode(#"{"v":1,"id":"1","op":"jobs.run","data":{"host":"a","action":"b","params":{"x":1}}}"#).get()
        XCTAssertThrowsError(try message.payload(JobsRunRequest.self)) { error in
            XCTAssertEqual(error as? ProtocolError, ProtocolError(.badRequest, "field 'params.x' has the wrong type"))
        }
    }

    func testMissingDataReadsAsEmptyObject() throws {
        let message = try InboundMessage.decode(#"{"v":1,"id":"1","op":"jobs.list"}"#).get()
        XCTAssertEqual(try message.payload(JobsListRequest.self), JobsListRequest())
        XCTAssertEqual(try message.payload(EmptyPayload.self), EmptyPayload())
    }

    func testUnknownFieldsAreIgnored() throws {
        let message = try InboundMessage.decode(#"{"v":1,"id":"1","op":"jobs.show","later":true,"data":{"job":"j","extra":[1]}}"#).get()
        XCTAssertEqual(try message.payload(JobQuery.self), JobQuery(job: "j"))
    }

    func testDataIsFoundWhereverItIsAndWhateverItHolds() throws {
        let texts = [
            #"{"v":1,"id":"1","op":"jobs.show","data":{"job":"a}\"]{,"}}"#,
            #" { "data" : { "job" : "a}\"]{," } , "v" : 1 , "id" : "1" , "op" : "jobs.show" } "#,
            #"{"v":1,"id":"1","op":"jobs.show","data":{"other":[[1,{"b":"]"}],-2.5e3,true,null],"job":"a}\"]{,"},"z":{}}"#,
            #"{"v":1,"id":"1","op":"jobs.show","d\u0061ta":{"job":"a}\"]{,"}}"#,
        ]
        for text in texts {
            let message = try InboundMessage.decode(text).get()
            XCTAssertEqual(message.kind, .request(id: "1", op: "jobs.show"), text)
            XCTAssertEqual(try message.payload(JobQuery.self), JobQuery(job: "a}\"]{,"), text)
        }
        let null = try InboundMessage.decode(#"{"v":1,"id":"1","op":"jobs.list","data":null}"#).get()
        XCTAssertEqual(try null.payload(JobsListRequest.self), JobsListRequest())
    }

    func testUnreadableDataLeavesTheEnvelopeReadable() throws {
        let message = try InboundMessage.decode(#"{"v":1,"id":"7","op":"jobs.show","data":{"job":}}"#).get()
        XCTAssertEqual(message.kind, .request(id: "7", op: "jobs.show"))
        XCTAssertThrowsError(try message.payload(JobQuery.self)) { error in
            XCTAssertEqual((error as? ProtocolError)?.code, .badRequest)
        }
        for text in [#"{"v":1,"id":"7","data":{"job":"x"}"#, #"{"v":1,"id":"7","data":{"job":"x"]}"#, #"{"v":1,"id":"7","data":"x}"#] {
            XCTAssertEqual(failure(text), InboundMessage.DecodingFailure(re: nil, error: ProtocolError(.badRequest, "not a JSON object")), text)
        }
    }

    private func failure(_ text: String) -> InboundMessage.DecodingFailure? {
        if case .failure(let failure) = InboundMessage.decode(text) { return failure }
        return nil
    }
}
