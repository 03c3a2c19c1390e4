import XCTest

@testable import WebSocketFrames

/// The incremental UTF-8 check agrees with the standard library's decoder on every input, however
/// the input is split into pieces.
final class UTF8ValidatorTests: XCTestCase {
    func testAgreesWithTheStandardLibraryOnRandomBytesSplitAnywhere() {
        var random = SplitMix64(seed: 6455)
        // Mostly ASCII with lead and continuation bytes mixed in, so that runs hit the fast path
        // and the slow one, and most sequences are wrong in interesting places.
        let alphabet: [UInt8] = [0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff]
        for _ in 0..<20_000 {
            let count = Int(random.next() % 24)
            let bytes = (0..<count).map { _ in
                random.next() % 3 == 0 ? alphabet[Int(random.next() % UInt64(alphabet.count))] : UInt8(ascii: "a")
            }
            let split = count == 0 ? 0 : Int(random.next() % UInt64(count + 1))
            XCTAssertEqual(validate(bytes, splitAt: split), Self.standardLibraryAccepts(bytes), "\(bytes) split at \(split)")
        }
    }

    func testEveryCodePointLengthSplitAtEveryByte() {
        let text = Array("aκόσμε€𝄞 ascii long enough for the word path 🙂!".utf8)
        for split in 0...text.count {
            XCTAssertTrue(validate(text, splitAt: split), "split at \(split)")
        }
    }

    private func validate(_ bytes: [UInt8], splitAt split: Int) -> Bool {
        var validator = UTF8Validator()
        return bytes.withUnsafeBytes { all in
            validator.validate(UnsafeRawBufferPointer(rebasing: all[..<split]))
                && validator.validate(UnsafeRawBufferPointer(rebasing: all[split...]))
        } && validator.isComplete
    }

    private static func standardLibraryAccepts(_ bytes: [UInt8]) -> Bool {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}

/// A small seeded generator, so that a failure can be replayed.
private struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
