import XCTest

@testable import Agent

/// Output read in arbitrary pieces becomes text without breaking a character cut between two reads.
final class UTF8ChunkDecoderTests: XCTestCase {
    func testASequenceCutBetweenReadsIsHeldBackUntilComplete() {
        var decoder = UTF8ChunkDecoder()
        let bytes = Array("aé€😀b".utf8)
        var text = ""
        for byte in bytes { text += decoder.decode([byte]) }
        text += decoder.finish()
        XCTAssertEqual(text, "aé€😀b")
    }

    func testInvalidBytesAndATruncatedEndBecomeReplacementCharacters() {
        var decoder = UTF8ChunkDecoder()
        XCTAssertEqual(decoder.decode([0x61, 0xFF, 0x62]), "a\u{FFFD}b")
        XCTAssertEqual(decoder.decode([0xE2, 0x82]), "")
        XCTAssertEqual(decoder.finish(), "\u{FFFD}")
    }
}
