import DataCenterProtocol
import Foundation
import XCTest

@testable import Agent

/// A job's output and result as found in the spool (what the central side will be sent).
struct JobResult {
    struct NotFinished: Error {}

    var chunks: [OutputChunk]
    var finished: JobFinished

    func text(_ stream: DataCenterProtocol.OutputStream) -> String {
        chunks.filter { $0.stream == stream }.map(\.data).joined()
    }

    /// Waits (bounded) until the spool holds `job`'s result.
    static func wait(for job: String, in spool: OutboundSpool, timeout: Duration = .seconds(20)) async throws -> JobResult {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (chunks, finished) = await collect(job, spool)
            if let finished { return JobResult(chunks: chunks, finished: finished) }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw NotFinished()
    }

    /// Waits (bounded) until `job`'s output so far contains `text`.
    static func waitForOutput(containing text: String, job: String, in spool: OutboundSpool, timeout: Duration = .seconds(20)) async throws -> [OutputChunk] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (chunks, _) = await collect(job, spool)
            if chunks.map(\.data).joined().contains(text) { return chunks }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw NotFinished()
    }

    private static func collect(_ job: String, _ spool: OutboundSpool) async -> ([OutputChunk], JobFinished?) {
        var chunks: [OutputChunk] = []
        var finished: JobFinished?
        for entry in await spool.entries(after: 0, limit: 100_000) {
            switch entry.message {
            case .output(let chunk) where chunk.job == job: chunks.append(chunk)
            case .finished(let result) where result.job == job: finished = result
            default: break
            }
        }
        return (chunks, finished)
    }
}
