@testable import DataCenterClient
import DataCenterProtocol
import XCTest

/// Where a session's runs resume after a reconnect: the first chunk of each followed job that the
/// router has not handed to its runs, alone.
final class JobEventRouterTests: XCTestCase {
    private func output(_ job: String, _ seq: Int) throws -> InboundMessage {
        try InboundMessage.decode(Envelope.event(.jobOutput, data: OutputChunk(job: job, seq: seq, stream: .stdout, data: "\(seq)"))).get()
    }

    private func resumePoints(_ router: JobEventRouter) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: router.followedJobs.map { ($0.job, $0.fromSeq) })
    }

    func testAFollowedJobResumesAfterTheChunksHandedOnWithoutAGap() throws {
        let router = JobEventRouter()
        // Captured before its jobs.run reply, then followed.
        router.beginCapture()
        router.route(try output("a", 0))
        let a = router.follow("a")
        router.endCapture()
        let b = router.follow("b")
        XCTAssertEqual(resumePoints(router), ["a": 1, "b": 0])

        for seq in [1, 3, 2, 5] { router.route(try output("a", seq)) }
        router.route(try output("b", 1))
        router.route(try output("c", 0))
        XCTAssertEqual(resumePoints(router), ["a": 4, "b": 0], "a from after 3 (5 came past a gap); b's 0 never came; c is not followed")

        router.stopFollowing("a")
        XCTAssertEqual(resumePoints(router), ["b": 0])
        router.end()
        XCTAssertEqual(resumePoints(router), [:])
        // Kept until here: a stream that is dropped stops following its job.
        withExtendedLifetime((a, b)) {}
    }
}
