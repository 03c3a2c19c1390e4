import NIOCore

/// Copies a child's output lines to the ``OutputLog``. Lines that do not already name the process
/// (memcached's, a crash message) get `role[pid]` in front, so every line says where it came from.
final class ChildOutputHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let output: OutputLog
    private let prefix: [UInt8]
    private let marker: [UInt8]

    init(output: OutputLog, role: String, pid: Int32) {
        self.output = output
        self.prefix = Array("\(role)[\(pid)] ".utf8)
        self.marker = Array("[\(pid)]".utf8)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = Self.unwrapInboundIn(data).readableBytesView
        if line.firstRange(of: marker) != nil {
            output.write(line: line)
        } else {
            output.write(line: prefix + line)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
