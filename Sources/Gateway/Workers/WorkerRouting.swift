/// How a gateway chooses the worker for a client's events (GatewayWorker's `router`).
public enum WorkerRouting: String, Sendable, CaseIterable {
    /// Every event of a client goes to the worker that took its first one, chosen in turn.
    /// The default: one client's events are handled in order, one at a time.
    case sticky
    /// Sticky, with the first event going to the worker that holds the fewest clients.
    case leastConnections = "least-connections"
    /// Every event goes to a worker chosen at random: the load spreads evenly, but two events of one
    /// client may be handled at the same time by two workers, so their order is not kept.
    case random
}
