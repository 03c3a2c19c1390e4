import Foundation
import NIOCore
import Wire
import XCTest

final class JSONValueTests: XCTestCase {
    private func decode(_ json: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        try ByteBuffer(string: json).decodeJSON(as: JSONValue.self)
    }

    /// The bytes a frame body would carry (sorted keys, unescaped slashes).
    private func encode(_ value: JSONValue) throws -> String {
        String(buffer: try ByteBuffer(json: value))
    }

    // MARK: - Decoding

    func testDecodesEveryScalarCase() throws {
        XCTAssertEqual(try decode("null"), .null)
        XCTAssertEqual(try decode("true"), .bool(true))
        XCTAssertEqual(try decode("false"), .bool(false))
        XCTAssertEqual(try decode("42"), .integer(42))
        XCTAssertEqual(try decode("-7"), .integer(-7))
        XCTAssertEqual(try decode("1.5"), .number(1.5))
        XCTAssertEqual(try decode("-0.25"), .number(-0.25))
        XCTAssertEqual(try decode(#""hi""#), .string("hi"))
        XCTAssertEqual(try decode(#""""#), .string(""))
    }

    func testWholeNumbersDecodeAsIntegerAndFractionsAsNumber() throws {
        XCTAssertEqual(try decode("1"), .integer(1))
        XCTAssertEqual(try decode("0"), .integer(0))
        XCTAssertEqual(try decode("1.5"), .number(1.5))
        XCTAssertEqual(try decode("1e-3"), .number(0.001))
        XCTAssertEqual(try decode(String(Int.max)), .integer(Int.max))
        XCTAssertEqual(try decode(String(Int.min)), .integer(Int.min))
        // Beyond Int: still a number, not an error.
        XCTAssertEqual(try decode("9223372036854775808"), .number(9_223_372_036_854_775_808))
        XCTAssertEqual(try decode("1e300"), .number(1e300))
    }

    func testNumbersAreNeverBooleansAndBooleansNeverNumbers() throws {
        XCTAssertEqual(try decode("1"), .integer(1))
        XCTAssertEqual(try decode("0"), .integer(0))
        XCTAssertEqual(try decode("true"), .bool(true))
        XCTAssertEqual(try decode("[true,1,false,0]"), .array([.bool(true), .integer(1), .bool(false), .integer(0)]))
    }

    func testAWholeNumberWrittenWithAFractionIsOneEitherWay() throws {
        // `1.0` may come back as .integer(1) or .number(1.0) depending on Foundation; both read as 1.
        let value = try decode("1.0")
        XCTAssertEqual(value.intValue, 1)
        XCTAssertTrue(value == .integer(1) || value == .number(1.0), "\(value)")
    }

    func testNumericStringsStayStrings() throws {
        XCTAssertEqual(try decode(#""1""#), .string("1"))
        XCTAssertEqual(try decode(#""true""#), .string("true"))
        XCTAssertEqual(try decode(#""null""#), .string("null"))
    }

    func testDecodesNestedArraysAndObjects() throws {
        let json = #"{"a":[1,2.5,"x",null,true,[],{}],"b":{"c":{"d":[{"e":false}]}},"f":{}}"#
        let expected: JSONValue = .object([
            "a": .array([.integer(1), .number(2.5), .string("x"), .null, .bool(true), .array([]), .object([:])]),
            "b": .object(["c": .object(["d": .array([.object(["e": .bool(false)])])])]),
            "f": .object([:]),
        ])
        XCTAssertEqual(try decode(json), expected)
    }

    func testDecodesEscapesAndUnicodeInStringsAndKeys() throws {
        let value = try decode(#"{"k\"ey":"a\"b\\c\/d\n\u00e9\ud83d\udd11","ключ":"значение"}"#)
        XCTAssertEqual(value, ["k\"ey": "a\"b\\c/d\né\u{1F511}", "ключ": "значение"])
    }

    func testRejectsWhatIsNotJSON() {
        for text in ["", "nul", "{", "[1,", "{\"a\" 1}", "'x'", "tru"] {
            XCTAssertThrowsError(try decode(text), text)
        }
    }

    // MARK: - Encoding

    func testEncodesEveryCase() throws {
        XCTAssertEqual(try encode(.null), "null")
        XCTAssertEqual(try encode(.bool(true)), "true")
        XCTAssertEqual(try encode(.bool(false)), "false")
        XCTAssertEqual(try encode(.integer(-12)), "-12")
        XCTAssertEqual(try encode(.number(1.5)), "1.5")
        XCTAssertEqual(try encode(.string("a/b \"q\"")), #""a/b \"q\"""#)
        XCTAssertEqual(try encode(.array([])), "[]")
        XCTAssertEqual(try encode(.object([:])), "{}")
        XCTAssertEqual(try encode([1, "x", nil, [true]]), #"[1,"x",null,[true]]"#)
    }

    func testObjectsEncodeWithSortedKeysSoEqualValuesGiveEqualBytes() throws {
        let value: JSONValue = ["b": 1, "a": ["z": 1, "y": [2, 3]], "c": nil]
        XCTAssertEqual(try encode(value), #"{"a":{"y":[2,3],"z":1},"b":1,"c":null}"#)
        var members = value.objectValue!
        members.reserveCapacity(64)  // a different internal layout, the same bytes
        XCTAssertEqual(try encode(.object(members)), try encode(value))
    }

    func testNonFiniteNumbersDoNotEncode() {
        XCTAssertThrowsError(try ByteBuffer(json: JSONValue.number(.nan)))
        XCTAssertThrowsError(try ByteBuffer(json: JSONValue.number(.infinity)))
        XCTAssertThrowsError(try ByteBuffer(json: JSONValue.array([.number(-.infinity)])))
    }

    // MARK: - Round trips

    func testEveryCaseSurvivesARoundTrip() throws {
        let samples: [JSONValue] = [
            .null, .bool(true), .bool(false), .integer(0), .integer(Int.max), .integer(Int.min), .number(1.5),
            .number(-1e-9), .number(1e300), .string(""), .string("päss \"quoted\" \u{1F511} / \\ \n\t"),
            .array([]), .object([:]),
            .array([.null, .integer(1), .number(0.5), .string("s"), .array([.array([])]), .object(["k": .bool(false)])]),
            .object([
                "uid": "u1",
                "groups": ["a", "b"],
                "profile": ["age": 30, "score": 99.5, "tags": [], "nested": ["deep": [nil, true]]],
                "": "empty key",
            ]),
        ]
        for value in samples {
            let bytes = try ByteBuffer(json: value)
            XCTAssertEqual(try bytes.decodeJSON(as: JSONValue.self), value, String(buffer: bytes))
        }
    }

    func testAWholeDoubleComesBackWithTheSameIntValue() throws {
        // JSON has one number type: a whole .number may come back as .integer, but never as another value.
        for double in [0.0, 1.0, -3.0, 1024.0] {
            let decoded = try ByteBuffer(json: JSONValue.number(double)).decodeJSON(as: JSONValue.self)
            XCTAssertEqual(decoded.intValue, Int(double))
        }
    }

    // MARK: - Literals

    func testLiteralsBuildTheMatchingCases() {
        let null: JSONValue = nil
        let bool: JSONValue = true
        let integer: JSONValue = 3
        let number: JSONValue = 3.5
        let string: JSONValue = "s"
        let array: JSONValue = [1, "two", nil]
        let object: JSONValue = ["a": 1, "b": [false]]
        XCTAssertEqual(null, .null)
        XCTAssertEqual(bool, .bool(true))
        XCTAssertEqual(integer, .integer(3))
        XCTAssertEqual(number, .number(3.5))
        XCTAssertEqual(string, .string("s"))
        XCTAssertEqual(array, .array([.integer(1), .string("two"), .null]))
        XCTAssertEqual(object, .object(["a": .integer(1), "b": .array([.bool(false)])]))
    }

    func testAFloatLiteralIsANumberEvenWhenWhole() {
        let whole: JSONValue = 2.0
        XCTAssertEqual(whole, .number(2))
        XCTAssertNotEqual(whole, .integer(2), "cases compare, not numeric values")
    }

    func testADuplicateKeyInADictionaryLiteralKeepsTheLastValue() {
        XCTAssertEqual(JSONValue(dictionaryLiteral: ("a", 1), ("b", 2), ("a", 3)), ["a": 3, "b": 2])
    }

    // MARK: - Merging

    func testObjectsMergeMemberByMemberRecursively() {
        let base: JSONValue = ["a": ["x": 1, "y": 2, "deep": ["p": 1, "q": 2]], "b": 1, "kept": "yes"]
        let changes: JSONValue = ["a": ["y": 3, "z": 4, "deep": ["q": 20, "r": 30]], "c": 2]
        let expected: JSONValue = [
            "a": ["x": 1, "y": 3, "z": 4, "deep": ["p": 1, "q": 20, "r": 30]],
            "b": 1,
            "kept": "yes",
            "c": 2,
        ]
        XCTAssertEqual(base.merging(changes), expected)
    }

    func testArraysAreReplacedNotMergedByIndex() {
        // Unlike PHP's array_replace_recursive, which would give [9, 2, 3]: a list is a value, replaced whole.
        let base: JSONValue = ["list": [1, 2, 3], "objects": [["a": 1], ["b": 2]]]
        let changes: JSONValue = ["list": [9], "objects": [["c": 3]]]
        XCTAssertEqual(base.merging(changes), ["list": [9], "objects": [["c": 3]]])
        XCTAssertEqual(base.merging(["list": []]), ["list": [], "objects": [["a": 1], ["b": 2]]])
    }

    func testANonObjectReplacesAnObjectAndAnObjectReplacesANonObject() {
        let base: JSONValue = ["o": ["x": 1], "s": "text", "n": 5, "l": [1]]
        XCTAssertEqual(base.merging(["o": 7]), ["o": 7, "s": "text", "n": 5, "l": [1]])
        XCTAssertEqual(base.merging(["o": [1, 2]]), ["o": [1, 2], "s": "text", "n": 5, "l": [1]])
        XCTAssertEqual(base.merging(["s": ["y": 2]]), ["o": ["x": 1], "s": ["y": 2], "n": 5, "l": [1]])
        XCTAssertEqual(base.merging(["l": ["0": 9]]), ["o": ["x": 1], "s": "text", "n": 5, "l": ["0": 9]])
    }

    func testNullReplacesAMemberRatherThanDeletingIt() {
        let base: JSONValue = ["a": 1, "b": ["x": 1]]
        XCTAssertEqual(base.merging(["a": nil, "b": nil]), ["a": nil, "b": nil])
    }

    func testAnEmptyObjectChangesNothing() {
        let base: JSONValue = ["a": ["x": 1], "b": [1, 2]]
        XCTAssertEqual(base.merging([:]), base)
        XCTAssertEqual(base.merging(["a": [:]]), base)
    }

    func testMergingIntoAnEmptyObjectGivesTheChanges() {
        let changes: JSONValue = ["a": ["x": 1], "b": [1]]
        XCTAssertEqual(JSONValue.object([:]).merging(changes), changes)
    }

    func testAtTopLevelAnythingButTwoObjectsIsReplaced() {
        XCTAssertEqual(JSONValue.integer(1).merging(["a": 1]), ["a": 1])
        XCTAssertEqual(JSONValue.object(["a": 1]).merging([2]), [2])
        XCTAssertEqual(JSONValue.object(["a": 1]).merging(nil), .null)
        XCTAssertEqual(JSONValue.array([1, 2]).merging([3]), [3])
        XCTAssertEqual(JSONValue.string("a").merging("b"), "b")
    }

    func testMergingLeavesBothOperandsUnchanged() {
        let base: JSONValue = ["a": ["x": 1]]
        let changes: JSONValue = ["a": ["y": 2]]
        _ = base.merging(changes)
        XCTAssertEqual(base, ["a": ["x": 1]])
        XCTAssertEqual(changes, ["a": ["y": 2]])
    }

    // MARK: - Subscript and accessors

    func testSubscriptReadsObjectMembers() {
        let value: JSONValue = ["a": ["b": 1], "n": nil]
        XCTAssertEqual(value["a"], ["b": 1])
        XCTAssertEqual(value["a"]?["b"], 1)
        XCTAssertEqual(value["n"], .null, "a null member is present")
        XCTAssertNil(value["missing"])
        XCTAssertNil(value["a"]?["b"]?["c"], "a member of a non-object")
    }

    func testSubscriptOfANonObjectIsNil() {
        let values: [JSONValue] = [nil, true, 1, 1.5, "a", ["a"]]
        for value in values {
            XCTAssertNil(value["a"], "\(value)")
            XCTAssertNil(value["0"], "\(value)")
        }
    }

    func testAccessorsReturnOnlyTheirOwnCase() {
        let string: JSONValue = "s"
        let array: JSONValue = [1]
        let object: JSONValue = ["k": 1]
        let bool: JSONValue = true
        XCTAssertEqual(string.stringValue, "s")
        XCTAssertEqual(array.arrayValue, [.integer(1)])
        XCTAssertEqual(object.objectValue, ["k": .integer(1)])
        XCTAssertEqual(bool.boolValue, true)
        XCTAssertEqual(JSONValue.bool(false).boolValue, false)

        let all: [JSONValue] = [nil, true, 1, 1.5, "s", [1], ["k": 1]]
        XCTAssertEqual(all.compactMap(\.stringValue).count, 1)
        XCTAssertEqual(all.compactMap(\.arrayValue).count, 1)
        XCTAssertEqual(all.compactMap(\.objectValue).count, 1)
        XCTAssertEqual(all.compactMap(\.boolValue).count, 1)
        XCTAssertNil(JSONValue.string("1").intValue)
        XCTAssertNil(JSONValue.integer(1).boolValue)
        XCTAssertNil(JSONValue.string("true").boolValue)
    }

    func testIntValueOfIntegersAndOfWholeNumbersOnly() {
        XCTAssertEqual(JSONValue.integer(-5).intValue, -5)
        XCTAssertEqual(JSONValue.integer(.max).intValue, .max)
        XCTAssertEqual(JSONValue.number(2.0).intValue, 2)
        XCTAssertEqual(JSONValue.number(-0.0).intValue, 0)
        XCTAssertNil(JSONValue.number(2.5).intValue)
        XCTAssertNil(JSONValue.number(1e300).intValue, "too large for Int")
        XCTAssertNil(JSONValue.number(.nan).intValue)
        XCTAssertNil(JSONValue.number(.infinity).intValue)
        XCTAssertNil(JSONValue.bool(true).intValue)
        XCTAssertNil(JSONValue.null.intValue)
    }
}
