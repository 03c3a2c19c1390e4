@testable import DataCenterClient
import DataCenterProtocol
import XCTest

/// The ordering of a job's output chunks on the client side, alone.
final class JobOutputOrderTests: XCTestCase {
    private func chunk(_ seq: Int) -> OutputChunk {
        OutputChunk(job: "j", seq: seq, stream: .stdout, data: "\(seq)")
    }

    func testChunksComeOutInOrderAndOnce() {
        var order = JobOutputOrder()
        XCTAssertEqual(order.take(chunk(1)), [])
        XCTAssertEqual(order.take(chunk(0)), [chunk(0), chunk(1)])
        XCTAssertEqual(order.take(chunk(1)), [], "a duplicate")
        XCTAssertEqual(order.take(chunk(3)), [])
        XCTAssertEqual(order.take(chunk(3)), [])
        XCTAssertEqual(order.take(chunk(2)), [chunk(2), chunk(3)])
        XCTAssertEqual(order.flush(), [])
    }

    func testFlushCrossesGapsAndLaterDuplicatesAreDropped() {
        var order = JobOutputOrder()
        XCTAssertEqual(order.take(chunk(5)), [])
        XCTAssertEqual(order.take(chunk(2)), [])
        XCTAssertEqual(order.flush(), [chunk(2), chunk(5)])
        XCTAssertEqual(order.take(chunk(4)), [])
        XCTAssertEqual(order.take(chunk(6)), [chunk(6)])
    }
}
