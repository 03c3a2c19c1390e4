import ArgumentParser

/// `server-counters`: one sample of the servers' summed counters as a JSON line, for the windows
/// Deploy/bench.sh times itself (idle connections).
struct ServerCountersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server-counters",
        abstract: "Print the servers' summed CPU ticks, context switches and heap counts as JSON."
    )

    @OptionGroup var servers: ServerCounterOptions

    func run() throws {
        Output.line((servers.read() ?? ServerCounters()).json.encoded)
    }
}
