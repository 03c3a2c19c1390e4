import Worker

/// The demo the benchmarks and tests use: a message whose first byte is `B` goes to every client
/// (the sender too); any other message goes back to its sender only.
public struct EchoBroadcastHandler: EventHandler {
    public init() {}

    public func onMessage(_ context: EventContext, message: ClientMessage) async throws {
        let reply = OutgoingMessage(bytes: message.bytes, isBinary: message.isBinary)
        if message.bytes.readableBytesView.first == UInt8(ascii: "B") {
            try await context.api.sendToAll(reply)
        } else {
            try await context.api.sendToCurrentClient(reply)
        }
    }
}
