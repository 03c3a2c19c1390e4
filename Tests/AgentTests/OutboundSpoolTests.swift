import DataCenterProtocol
import Foundation
import XCTest

@testable import Agent

/// The spool on a real directory: order, acknowledgement, the bound, and a restart.
final class OutboundSpoolTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = NSTemporaryDirectory() + "agent-spool-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func chunk(_ seq: Int, _ text: String = "0123456789") -> OutboundSpool.Message {
        .output(OutputChunk(job: "j", seq: seq, stream: .stdout, data: text))
    }

    func testEntriesSurviveARestartInOrderUntilAcknowledged() async throws {
        let spool = try OutboundSpool(stateDirectory: directory, maximumBytes: 1 << 20)
        for seq in 0..<5 { try await spool.append(chunk(seq)) }
        try await spool.append(.finished(JobFinished(job: "j", state: .done, exitCode: 0, durationMs: 5)))
        let first = await spool.entries(after: 0, limit: 2)
        await spool.remove(first[0].sequence)

        let reopened = try OutboundSpool(stateDirectory: directory, maximumBytes: 1 << 20)
        let entries = await reopened.entries(after: 0, limit: 100)
        XCTAssertEqual(entries.map(\.message), (1..<5).map { chunk($0) } + [.finished(JobFinished(job: "j", state: .done, exitCode: 0, durationMs: 5))])
        let after = await reopened.entries(after: entries[1].sequence, limit: 100)
        XCTAssertEqual(after.count, 3, "a cursor continues after what was sent")
        try await reopened.append(chunk(9))
        let last = await reopened.entries(after: entries.last!.sequence, limit: 100)
        XCTAssertEqual(last.map(\.message), [chunk(9)], "new entries are numbered after the ones found on disk")
    }

    func testOutputIsRefusedWhenFullButAResultIsAlwaysKept() async throws {
        let spool = try OutboundSpool(stateDirectory: directory, maximumBytes: 400)
        var accepted = 0
        for seq in 0..<20 where try await spool.append(chunk(seq)) { accepted += 1 }
        XCTAssertGreaterThan(accepted, 0)
        XCTAssertLessThan(accepted, 20)
        let stored = try await spool.append(.finished(JobFinished(job: "j", state: .failed, exitCode: 1, durationMs: 1)))
        XCTAssertTrue(stored)
        let backlog = await spool.backlog
        XCTAssertEqual(backlog.count, accepted + 1)
    }

    func testAWaitEndsWhenAnEntryArrivesOrTheTaskIsCancelled() async throws {
        let spool = try OutboundSpool(stateDirectory: directory, maximumBytes: 1 << 20)
        let waiting = Task { await spool.waitForEntries(after: 0) }
        try await spool.append(chunk(0))
        await waiting.value
        let cancelled = Task { await spool.waitForEntries(after: 1) }
        cancelled.cancel()
        await cancelled.value
    }
}
