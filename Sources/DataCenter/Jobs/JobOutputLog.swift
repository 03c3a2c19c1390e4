import DataCenterProtocol

/// The output shown of one job: its chunks in `seq` order, at most `limit` bytes of the newest, and
/// which `seq`s have been received, so a chunk read twice is recognised and dropped.
struct JobOutputLog: Sendable, Hashable {
    /// Kept chunks, in `seq` order.
    private(set) var chunks: [OutputChunk] = []
    /// Bytes of every chunk ever received, dropped ones included.
    private(set) var totalBytes = 0
    private(set) var keptBytes = 0
    /// Every `seq` below this was received.
    private(set) var receivedBelow = 0
    /// `seq`s received above `receivedBelow`, sorted (chunks that came out of order).
    private(set) var receivedAbove: [Int] = []

    /// True when the chunk `seq` was received before.
    func contains(_ seq: Int) -> Bool {
        seq < receivedBelow || receivedAbove.contains(seq)
    }

    /// Adds `chunk` unless it was received before, then drops the oldest chunks beyond `limit` bytes.
    /// - Returns: false for a duplicate.
    mutating func insert(_ chunk: OutputChunk, limit: Int) -> Bool {
        guard chunk.seq >= 0, !contains(chunk.seq) else { return false }
        receivedAbove.insert(chunk.seq, at: receivedAbove.firstIndex { $0 > chunk.seq } ?? receivedAbove.endIndex)
        while receivedAbove.first == receivedBelow {
            receivedAbove.removeFirst()
            receivedBelow += 1
        }
        let size = chunk.data.utf8.count
        totalBytes += size
        keptBytes += size
        chunks.insert(chunk, at: chunks.lastIndex { $0.seq < chunk.seq }.map { $0 + 1 } ?? 0)
        while keptBytes > limit, let oldest = chunks.first {
            keptBytes -= oldest.data.utf8.count
            chunks.removeFirst()
        }
        return true
    }
}
