/// The handler at the end of a client's pipeline that turns what the gateway writes to the client
/// into the protocol's bytes (WebSocket frames, text lines). Its ``ClientConnection`` calls it
/// directly: a ``ClientOutbound`` passed down the pipeline would be boxed in an `NIOAny`, one
/// allocation per message written.
protocol ClientWriter: AnyObject {
    /// Writes `outbound` without flushing (a close flushes). Call on the channel's event loop.
    func write(_ outbound: ClientOutbound)
}
