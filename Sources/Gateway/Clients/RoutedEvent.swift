import Wire

/// A client event on its way to a worker, and how many worker links broke (or workers died) while
/// holding it unacknowledged: past ``ClientEventRouter/Limits/maxDeliveryFailures`` it is a poison
/// message and is not handed out again.
struct RoutedEvent: Sendable {
    var frame: GatewayFrame
    var failedDeliveries = 0
}
