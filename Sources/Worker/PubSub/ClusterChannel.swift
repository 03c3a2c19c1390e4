import Cluster
import NIOConcurrencyHelpers
import NIOCore
import Wire

/// Workerman's `Channel`: publish / subscribe of named events between worker processes on any
/// machine. A publish goes to one linked gateway (the next one if that fails), which relays it to
/// every worker linked to it; every worker links to every gateway, so no single process's loss
/// stops it. Subscribers run in the worker's event order.
public final class ClusterChannel: Sendable {
    /// What a subscriber runs.
    public typealias Subscriber = @Sendable (ChannelEvent, WorkerContext) async throws -> Void

    private let transport: any GatewayTransport
    private let subscribers = NIOLockedValueBox<[String: Subscriber]>([:])

    init(transport: any GatewayTransport) {
        self.transport = transport
    }

    /// Runs `subscriber` for every event named `name` from now on (replacing an earlier one).
    public func subscribe(_ name: String, _ subscriber: @escaping Subscriber) {
        subscribers.withLockedValue { $0[name] = subscriber }
    }

    public func unsubscribe(_ name: String) {
        _ = subscribers.withLockedValue { $0.removeValue(forKey: name) }
    }

    /// Sends an event to every worker subscribed to `name`, this one included.
    public func publish(_ name: String, _ data: JSONValue) async throws {
        let frame = GatewayFrame(command: .channelPublish, extData: ByteBuffer(string: name), body: try ByteBuffer(json: data))
        var lastError: Error = ClusterAPIError.noGatewayLinked
        for gateway in try await transport.gatewayAddresses() {
            do {
                try await transport.send(frame, to: gateway)
                return
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// The subscriber for a relayed event, if this worker has one.
    func subscriber(for name: String) -> Subscriber? {
        subscribers.withLockedValue { $0[name] }
    }
}

/// One published Channel event.
public struct ChannelEvent: Sendable {
    public let name: String
    public let data: JSONValue
}
