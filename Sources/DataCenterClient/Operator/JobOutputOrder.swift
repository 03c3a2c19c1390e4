import DataCenterProtocol

/// Puts a job's output chunks in `seq` order, each once: chunks can arrive out of order (events from
/// different workers) and twice (an event and then the output kept by the central side).
struct JobOutputOrder: Sendable {
    /// The first `seq` not given yet: every one before it was.
    private(set) var nextSeq = 0
    private var waiting: [Int: OutputChunk] = [:]

    /// Takes `chunk`; returns the chunks that are now next in order (none while a predecessor is missing).
    mutating func take(_ chunk: OutputChunk) -> [OutputChunk] {
        guard chunk.seq >= nextSeq else { return [] }
        waiting[chunk.seq] = chunk
        var ready: [OutputChunk] = []
        while let next = waiting.removeValue(forKey: nextSeq) {
            ready.append(next)
            nextSeq += 1
        }
        return ready
    }

    /// What is still waiting, in order, across the gaps (chunks the central side no longer keeps).
    mutating func flush() -> [OutputChunk] {
        let rest = waiting.keys.sorted().compactMap { waiting[$0] }
        waiting = [:]
        if let last = rest.last { nextSeq = last.seq + 1 }
        return rest
    }
}
