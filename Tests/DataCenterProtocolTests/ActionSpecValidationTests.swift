import DataCenterProtocol
import XCTest

/// The one parameter validator that the central side (before it queues a job) and the agent (before it
/// runs one) share: both refuse exactly these values.
final class ActionSpecValidationTests: XCTestCase {
    private let spec = ActionSpec(
        name: "a",
        params: [
            ActionParameter(name: "vps", type: .vpsName), ActionParameter(name: "ip", type: .ip, required: false),
            ActionParameter(name: "n", type: .int, required: false), ActionParameter(name: "mode", type: .enum, required: false, values: ["x"]),
            ActionParameter(name: "note", type: .string, required: false),
        ])

    func testValidParameters() throws {
        XCTAssertNil(spec.problem(with: ["vps": "vps-1", "ip": "10.0.0.1", "n": "-3", "mode": "x", "note": "a note; with $pecial chars"]))
        XCTAssertNil(spec.problem(with: ["vps": "v", "ip": "::1"]))
        XCTAssertNil(spec.problem(with: ["vps": "a" + String(repeating: "b", count: 63)]))
        try spec.validate(["vps": "101"])
    }

    func testEachKindOfBadParameterIsNamed() {
        let cases: [([String: String], String)] = [
            ([:], "vps"), (["vps": "a b"], "vps"), (["vps": "v", "ip": "10.0.0.256"], "ip"), (["vps": "v", "n": "1e3"], "n"),
            (["vps": "v", "mode": "y"], "mode"), (["vps": "v", "other": "1"], "other"),
        ]
        for (params, parameter) in cases {
            XCTAssertEqual(spec.problem(with: params)?.parameter, parameter, "\(params)")
            XCTAssertThrowsError(try spec.validate(params), "\(params)") { error in
                XCTAssertEqual((error as? ProtocolError)?.code, .badRequest)
            }
        }
    }

    /// What the central side used to let through and only the agent refused.
    func testOptionsPathsAndControlCharactersAreRefused() {
        for vps in ["-rf", ".hidden", "_x", "a/b", "../etc", "a" + String(repeating: "b", count: 64)] {
            XCTAssertEqual(spec.problem(with: ["vps": vps])?.parameter, "vps", vps)
        }
        for note in ["line\nbreak", "nul\u{0}", "bell\u{7}", String(repeating: "x", count: 1025)] {
            XCTAssertEqual(spec.problem(with: ["vps": "v", "note": note])?.parameter, "note", note)
        }
    }
}
