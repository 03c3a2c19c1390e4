import DataCenterProtocol

/// Numbers a job's output (both streams, one sequence) and puts it in the spool, up to the output cap.
actor JobOutputSink {
    private let job: String
    private let cap: Int
    private let spool: OutboundSpool
    private var nextSequence = 0
    private var bytesSent = 0
    private var truncated = false
    private var decoders: [DataCenterProtocol.OutputStream: UTF8ChunkDecoder] = [:]

    init(job: String, cap: Int, spool: OutboundSpool) {
        self.job = job
        self.cap = cap
        self.spool = spool
    }

    /// Bytes read from `stream`.
    func write(_ bytes: [UInt8], from stream: DataCenterProtocol.OutputStream) async {
        guard !truncated else { return }
        let room = cap - bytesSent
        let kept = bytes.prefix(room)
        bytesSent += kept.count
        await emit(decoders[stream, default: UTF8ChunkDecoder()].decode(kept), on: stream)
        if kept.count < bytes.count { await truncate("output cap of \(cap) bytes reached") }
    }

    /// The stream has ended: what a cut UTF-8 sequence left behind goes out (as U+FFFD).
    func finish(_ stream: DataCenterProtocol.OutputStream) async {
        guard !truncated, let rest = decoders[stream]?.finish() else { return }
        await emit(rest, on: stream)
    }

    /// A line of the agent's own on stderr (why a job could not start, why output stopped).
    func note(_ text: String) async {
        await emit(text, on: .stderr)
    }

    private func emit(_ text: String, on stream: DataCenterProtocol.OutputStream) async {
        guard !text.isEmpty else { return }
        // Numbered before the spool is awaited: both streams' readers call in here concurrently.
        let chunk = OutputChunk(job: job, seq: nextSequence, stream: stream, data: text)
        nextSequence += 1
        if (try? await spool.append(.output(chunk))) != true {
            await truncate("the agent's output spool is full")
        }
    }

    private func truncate(_ reason: String) async {
        guard !truncated else { return }
        truncated = true
        let chunk = OutputChunk(job: job, seq: nextSequence, stream: .stderr, data: "\n[datacentered agent: output truncated: \(reason); the rest was discarded]\n")
        nextSequence += 1
        _ = try? await spool.append(.output(chunk))
    }
}
