import ArgumentParser

/// The benchmark's WebSocket load generator. Every run ends with one line of JSON holding all its
/// figures; connection failures are counted, never fatal.
@main
struct LoadGen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "WebSocket load generator for DataCentered (loopback only).",
        discussion: """
            Modes: rtt (echo round trips), fanout (broadcast deliveries), idle (held connections);
            fleet-agents and fleet-operator (the datacenter fleet benchmark, Deploy/bench-fleet.sh).
            server-counters samples the servers under benchmark (Deploy/bench.sh's idle windows).
            The last line of output is a JSON object with every figure.
            """,
        subcommands: [RTTCommand.self, FanoutCommand.self, IdleCommand.self, FleetAgentsCommand.self, FleetOperatorCommand.self, ServerCountersCommand.self]
    )
}
