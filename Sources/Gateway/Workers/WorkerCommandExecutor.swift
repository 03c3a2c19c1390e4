import Logging
import NIOCore
import Wire

/// Carries out the commands that workers send about clients, on the clients' own event loops.
struct WorkerCommandExecutor: Sendable {
    let directory: ClientDirectory
    let logger: Logger

    func execute(_ frame: GatewayFrame, from link: WorkerLink) {
        switch frame.command {
        case .sendToOne:
            guard let connection = directory.connection(frame.connectionID) else { return }
            let message = Self.message(frame)
            connection.onLoop { connection.write(message) }
        case .sendToAll:
            broadcast(Self.message(frame))
        case .kick:
            guard let connection = directory.connection(frame.connectionID) else { return }
            let lastMessage = frame.body.readableBytes > 0 ? Self.message(frame) : nil
            connection.onLoop { connection.close(code: .normalClosure, lastMessage: lastMessage) }
        case .destroy:
            guard let connection = directory.connection(frame.connectionID) else { return }
            connection.onLoop { connection.destroy() }
        case .ping:
            break
        default:
            logger.warning("ignoring command \(frame.command) that this gateway does not carry out", metadata: ["link": "\(link)"])
        }
    }

    private func broadcast(_ message: ClientOutbound.Message) {
        for (loop, connections) in directory.connectionsByEventLoop() {
            loop.execute {
                for connection in connections { connection.write(message) }
            }
        }
    }

    private static func message(_ frame: GatewayFrame) -> ClientOutbound.Message {
        ClientOutbound.Message(bytes: frame.body, isBinary: frame.flags.contains(.binary))
    }
}
