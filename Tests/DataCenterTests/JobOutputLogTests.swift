@testable import DataCenter
import DataCenterProtocol
import XCTest

final class JobOutputLogTests: XCTestCase {
    private func chunk(_ seq: Int, _ data: String = "xxxx") -> OutputChunk {
        OutputChunk(job: "j", seq: seq, stream: .stdout, data: data)
    }

    func testDuplicatesAreDroppedInAndOutOfOrder() {
        var log = JobOutputLog()
        XCTAssertTrue(log.insert(chunk(0), limit: 100))
        XCTAssertTrue(log.insert(chunk(2), limit: 100))
        XCTAssertFalse(log.insert(chunk(0), limit: 100))
        XCTAssertFalse(log.insert(chunk(2), limit: 100))
        XCTAssertTrue(log.insert(chunk(1), limit: 100))
        XCTAssertFalse(log.insert(chunk(1), limit: 100))
        XCTAssertEqual(log.chunks.map(\.seq), [0, 1, 2])
        XCTAssertEqual(log.receivedBelow, 3)
        XCTAssertEqual(log.receivedAbove, [])
        XCTAssertFalse(log.insert(chunk(-1), limit: 100))
    }

    func testOldestChunksGoBeyondTheLimitButStillCountAsReceived() {
        var log = JobOutputLog()
        for seq in 0..<5 { XCTAssertTrue(log.insert(chunk(seq), limit: 10)) }
        XCTAssertEqual(log.chunks.map(\.seq), [3, 4])
        XCTAssertEqual(log.keptBytes, 8)
        XCTAssertEqual(log.totalBytes, 20)
        XCTAssertFalse(log.insert(chunk(0), limit: 10), "a dropped chunk sent again came back")
    }
}
