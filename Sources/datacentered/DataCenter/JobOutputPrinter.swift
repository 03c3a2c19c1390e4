import DataCenterClient
import DataCenterProtocol
import Foundation

/// Writes a job's output to this process's standard output and error in `seq` order, each chunk once,
/// until the job ends; then the exit status to return (the job's, 128 + its signal, or 1).
struct JobOutputPrinter {
    let job: String
    private var nextSeq = 0
    private var waiting: [Int: OutputChunk] = [:]

    init(job: String) {
        self.job = job
    }

    /// Follows the job's events; events can come out of order, so chunks wait for their predecessors,
    /// and at the end the output kept by the central side fills what the events did not bring.
    mutating func follow(_ events: AsyncStream<InboundMessage>, session: DataCenterSession) async throws -> Int32 {
        for await event in events {
            switch event.kind {
            case .event(EventName.jobOutput.rawValue):
                guard let chunk = try? event.payload(OutputChunk.self), chunk.job == job else { continue }
                take(chunk)
            case .event(EventName.jobState.rawValue):
                guard let record = try? event.payload(JobReply.self).job, record.id == job, record.state.isFinal else { continue }
                let shown = try await session.request(.jobsShow, JobQuery(job: job)).payload(JobDetailReply.self)
                for chunk in shown.output { take(chunk) }
                flushAll()
                return Self.status(of: shown.job)
            default:
                continue
            }
        }
        throw OperatorCommandSession.ConnectionEnded()
    }

    private mutating func take(_ chunk: OutputChunk) {
        guard chunk.seq >= nextSeq else { return }
        waiting[chunk.seq] = chunk
        while let next = waiting.removeValue(forKey: nextSeq) {
            write(next)
            nextSeq += 1
        }
    }

    /// Writes what is left, in order, across any chunks the central side no longer keeps.
    private mutating func flushAll() {
        for seq in waiting.keys.sorted() {
            if let chunk = waiting.removeValue(forKey: seq) { write(chunk) }
        }
    }

    private func write(_ chunk: OutputChunk) {
        let handle = chunk.stream == .stderr ? FileHandle.standardError : FileHandle.standardOutput
        handle.write(Data(chunk.data.utf8))
    }

    private static func status(of record: JobRecord) -> Int32 {
        if let exitCode = record.exitCode { return Int32(truncatingIfNeeded: exitCode) }
        if let signal = record.signal { return 128 + Int32(truncatingIfNeeded: signal) }
        FileHandle.standardError.write(Data("job \(record.id) \(record.state.rawValue)\(record.error.map { ": \($0)" } ?? "")\n".utf8))
        return record.state == .done ? 0 : 1
    }
}
