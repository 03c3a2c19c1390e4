import DataCenterProtocol
import Foundation
import XCTest

final class EnvelopeTests: XCTestCase {
    func testRequestText() {
        XCTAssertEqual(
            Envelope.request(id: "3", op: .hostsShow, data: HostQuery(host: "node-1")),
            #"{"data":{"host":"node-1"},"id":"3","op":"hosts.show","v":1}"#)
    }

    func testSuccessfulReplyText() {
        XCTAssertEqual(Envelope.reply(to: "3", data: EmptyPayload()), #"{"data":{},"ok":true,"re":"3","v":1}"#)
    }

    /// An empty reply is built without the encoder; its text is the encoder's, whatever the id.
    func testAnEmptyReplyIsTheEncodersTextForAnyID() {
        struct Nothing: Encodable, Sendable {}
        for id in ["o:17", "a/b", "é✓", "with space", "quote\"", "back\\slash", "tab\t", "\u{7f}", ""] {
            XCTAssertEqual(Envelope.reply(to: id, data: EmptyPayload()), Envelope.reply(to: id, data: Nothing()), id)
        }
        XCTAssertEqual(Envelope.reply(to: nil, data: EmptyPayload()), #"{"data":{},"ok":true,"re":null,"v":1}"#)
    }

    func testFailedReplyNamesNullWhenTheIdIsUnknown() {
        XCTAssertEqual(
            Envelope.reply(to: nil, error: ProtocolError(.unsupportedVersion, "no")),
            #"{"error":{"code":"unsupported_version","message":"no"},"ok":false,"re":null,"v":1}"#)
    }

    func testEventText() {
        let at = Timestamp(Date(timeIntervalSince1970: 1_800_000_000.25))
        XCTAssertEqual(
            Envelope.event(.hostOnline, data: HostPresence(host: "h", at: at)),
            #"{"data":{"at":"2027-01-15T08:00:00.250Z","host":"h"},"ev":"host.online","v":1}"#)
    }

    /// The envelope's reference (Documentation.docc/Envelope.md) names every operation, event and error code.
    func testEveryOperationEventAndErrorCodeIsDocumented() throws {
        let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/DataCenterProtocol/Documentation.docc/Envelope.md")
        let text = try String(contentsOf: reference, encoding: .utf8)
        let names = OperationName.allCases.map(\.rawValue) + EventName.allCases.map(\.rawValue) + ErrorCode.allCases.map(\.rawValue)
        let missing = names.filter { !text.contains("`\($0)`") }
        XCTAssertEqual(missing, [], "not in Envelope.md")
    }

    func testEveryMessageKindRoundTrips() throws {
        let chunk = OutputChunk(job: "j-1", seq: 4, stream: .stderr, data: "oops\n")
        let request = try InboundMessage.decode(Envelope.request(id: "a", op: .jobOutput, data: chunk)).get()
        XCTAssertEqual(request.kind, .request(id: "a", op: "job.output"))
        XCTAssertEqual(try request.payload(OutputChunk.self), chunk)

        let reply = try InboundMessage.decode(Envelope.reply(to: "a", data: JobStateReply(state: .timedOut))).get()
        XCTAssertEqual(reply.kind, .reply(re: "a", error: nil))
        XCTAssertEqual(try reply.payload(JobStateReply.self).state, .timedOut)

        let failed = try InboundMessage.decode(Envelope.reply(to: "b", error: ProtocolError(.busy, "later"))).get()
        XCTAssertEqual(failed.kind, .reply(re: "b", error: ProtocolError(.busy, "later")))

        let event = try InboundMessage.decode(Envelope.event(.reportCPU, data: CPUReport(total: 12.5, cores: [10, 15]))).get()
        XCTAssertEqual(event.kind, .event(name: "report.cpu"))
        XCTAssertEqual(try event.payload(CPUReport.self), CPUReport(total: 12.5, cores: [10, 15]))
    }

    func testOperationAndEventNamesAreNamespaceDotVerb() {
        for name in OperationName.allCases.map(\.rawValue) + EventName.allCases.map(\.rawValue) {
            XCTAssertEqual(name.split(separator: ".").count, 2, name)
        }
        for code in ErrorCode.allCases {
            XCTAssertTrue(code.rawValue.allSatisfy { $0.isLowercase || $0 == "_" }, code.rawValue)
        }
    }
}
