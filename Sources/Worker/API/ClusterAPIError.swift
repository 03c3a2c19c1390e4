import Wire

/// Why a cluster API call could not be carried out.
public enum ClusterAPIError: Error, Equatable, CustomStringConvertible {
    /// The call needs a current client, but it was made outside a client event (from a timer, say).
    case noCurrentClient
    /// The gateway that holds the client is not linked to this worker (gone, or not yet discovered).
    case gatewayNotLinked(GatewayAddress)
    /// No gateway is linked, so nothing can be sent anywhere.
    case noGatewayLinked

    public var description: String {
        switch self {
        case .noCurrentClient:
            return "no current client: this call is only valid while handling a client event"
        case .gatewayNotLinked(let address):
            return "gateway \(address) that holds the client is not linked to this worker"
        case .noGatewayLinked:
            return "no gateway is linked to this worker"
        }
    }
}
