import DataCenterProtocol

/// The allow-list every simulated agent announces, and what each action does.
enum FleetActions {
    /// Prints `lines` lines, one output chunk each, and exits 0.
    static let echo = "fleet.echo"
    /// Prints one line, then runs until it is cancelled or times out.
    static let wait = "fleet.wait"
    /// Lines `fleet.echo` prints.
    static let lines = 3

    static let specs = [
        ActionSpec(name: echo, description: "print \(lines) lines and exit 0"),
        ActionSpec(name: wait, description: "print one line, then wait until cancelled"),
    ]
}
