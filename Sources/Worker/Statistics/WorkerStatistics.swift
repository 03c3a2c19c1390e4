import ClusterLogging

/// A worker process's counters, as logged every `--stats-interval` and read by tools.
public struct WorkerStatistics: Sendable, Equatable, StatisticsLine {
    /// Client events handled (connect, WebSocket handshake, message, close).
    public var eventsHandled = 0
    /// Of those, events a worker that went away had received before.
    public var redeliveredEvents = 0
    /// Handler calls (events, timers, Channel events) that threw.
    public var handlerErrors = 0
    /// Timer firings and Channel events run.
    public var timersFired = 0
    public var channelEvents = 0
    /// Gateways linked now.
    public var gatewayLinks = 0
    /// Failed reads of the gateway list from the registry.
    public var registryErrors = 0
    /// Channel events dropped because too many bytes of them waited for the handler.
    public var channelEventsDropped = 0

    public init() {}
}
