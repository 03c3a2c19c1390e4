import ArgumentParser

/// The server processes whose counters (ServerCounters) a run reads.
struct ServerCounterOptions: ParsableArguments {
    @Option(help: "Comma-separated PIDs of the servers under test (rtt, fanout: their CPU seconds, context switches and allocations over the measured window go into the summary).")
    var serverPids: String = ""

    @Option(help: "The servers' MALLOC_COUNT_DIR (Deploy/bench-malloc-count.c's per-pid files), for their allocations.")
    var mallocCountDir: String?

    func validate() throws {
        _ = try pids()
    }

    func pids() throws -> [Int32] {
        try serverPids.split(separator: ",").map { text in
            guard let pid = Int32(text.trimmingCharacters(in: " ")), pid > 0 else {
                throw ValidationError("--server-pids: \(text) is not a process id")
            }
            return pid
        }
    }

    /// The servers' counters now; nil when no server is named.
    func read() -> ServerCounters? {
        guard let pids = try? pids(), !pids.isEmpty else { return nil }
        return ServerCounters.read(pids: pids, mallocCountDirectory: mallocCountDir)
    }
}
