import ArgumentParser
import Wire

/// The gateway↔worker link's frame limit, which gateways and workers must agree on: a client message
/// travels in one frame, so a gateway whose --max-message-size is near the limit needs a larger one.
struct LinkOptions: ParsableArguments {
    @Option(help: "Largest gateway↔worker frame in bytes (a client message and its session travel in one); set the same on gateways and workers.")
    var maxLinkFrameSize = GatewayFrameDecoder.defaultMaximumFrameLength
}
