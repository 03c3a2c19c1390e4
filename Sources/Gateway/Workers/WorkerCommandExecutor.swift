import ClusterLogging
import Logging
import NIOCore
import Wire

/// Carries out the commands that workers (and gateway clients) send: sends, membership, sessions,
/// closes on the clients' own event loops, and queries answered on the link they came on.
///
/// A worker linked to every event loop sends the commands about a client on the link of the client's
/// loop, and a send to many as one ``GatewayFrame/Flags/laneOnly`` copy per link: then each is carried
/// out right where it is read, in the order it was sent, and nothing crosses threads.
struct WorkerCommandExecutor: Sendable {
    let directory: ClientDirectory
    let links: WorkerLinkTable
    let lanAddress: GatewayAddress
    let counters: GatewayCounters
    /// Workers can make command failures happen at will: they are rate-limited.
    let peerLog: RateLimitedLog

    /// Why a command could not be carried out.
    struct CommandError: Error, CustomStringConvertible {
        let description: String
    }

    func execute(_ frame: GatewayFrame, from link: WorkerLink) {
        do {
            if frame.command.isQuery {
                let body = try answer(frame)
                guard GatewayFrame.headerLength + body.readableBytes <= link.maxFrameSize else {
                    throw CommandError(description: "its answer of \(body.readableBytes) bytes is larger than a link carries (\(link.maxFrameSize) bytes)")
                }
                guard link.channel.isWritable else {
                    // It asks and does not read the answers: they would pile up here without bound.
                    peerLog.log(.warning, "closing worker link", "the worker does not read its answers", metadata: ["worker": "\(link)"])
                    link.channel.close(promise: nil)
                    return
                }
                link.answer(body)
            } else {
                try perform(frame, from: link)
            }
        } catch {
            peerLog.log(.warning, "command failed", "\(frame.command): \("\(error)".escapedForLog)", metadata: ["link": "\(link)"])
            // Every query gets an answer, or the worker's later answers would pair with the wrong queries.
            if frame.command.isQuery { link.answer(Self.failure(error)) }
        }
    }

    private func perform(_ frame: GatewayFrame, from link: WorkerLink) throws {
        let number = frame.connectionID
        if number != 0, directory.lanes.lane(ofConnection: number) != link.lane {
            counters.shard(for: link.channel.eventLoop).add(.crossLoopCommands)
        }
        switch frame.command {
        case .sendToOne:
            guard let connection = directory.connection(number) else { return }
            connection.writeFromAnyThread(Self.message(frame))
        case .sendToAll:
            let arguments = try Self.arguments(frame, default: CommandArguments.SendToAll())
            let excluded = Set(arguments.exclude ?? [])
            send(frame, from: link) { table in
                (arguments.clients.map(Set.init) ?? Set(table.records.keys)).subtracting(excluded)
            }
        case .sendToUID:
            let uids = try Self.arguments(frame, as: [String].self)
            send(frame, from: link) { $0.numbers(withUIDs: uids) }
        case .sendToGroup:
            let arguments = try Self.arguments(frame, as: CommandArguments.SendToGroup.self)
            send(frame, from: link) { $0.numbers(inGroups: arguments.groups).subtracting(arguments.exclude ?? []) }
        case .kick:
            guard let connection = directory.connection(number) else { return }
            let lastMessage = frame.body.readableBytes > 0 ? Self.message(frame) : nil
            connection.onLoop { connection.close(code: .normalClosure, lastMessage: lastMessage) }
        case .destroy:
            guard let connection = directory.connection(number) else { return }
            connection.onLoop { connection.destroy() }
        case .bindUID:
            directory.bind(number, toUID: try Self.text(frame.body))
        case .unbindUID:
            directory.unbind(number, fromUID: try Self.text(frame.body))
        case .joinGroup:
            directory.join(number, group: try Self.text(frame.body))
        case .leaveGroup:
            directory.leave(number, group: try Self.text(frame.body))
        case .ungroup:
            directory.ungroup(try Self.text(frame.body))
        case .setSession:
            try directory.setSession(number, to: try frame.body.decodeJSON(as: JSONValue.self))
        case .updateSession:
            try directory.updateSession(number, with: try frame.body.decodeJSON(as: JSONValue.self))
        case .channelPublish:
            let skipped = links.relay(GatewayFrame(command: .channelEvent, extData: frame.extData, body: frame.body))
            if !skipped.isEmpty {
                counters.shard(for: link.channel.eventLoop).add(.channelEventsDropped, skipped.count)
                peerLog.log(.warning, "Channel event not relayed", "to \(skipped.count) worker(s) that do not read their link", metadata: ["workers": "\(skipped)"])
            }
        case .ping:
            break
        default:
            throw CommandError(description: "this gateway does not carry out \(frame.command)")
        }
    }

    private func answer(_ frame: GatewayFrame) throws -> ByteBuffer {
        let number = frame.connectionID
        switch frame.command {
        case .isOnline:
            return try ByteBuffer(json: QueryAnswer.success(directory.connection(number) != nil))
        case .getSessionByClientID:
            return try ByteBuffer(json: QueryAnswer.success(CommandArguments.SessionAnswer(session: directory.session(number))))
        case .getClientIDByUID:
            return try ByteBuffer(json: QueryAnswer.success(directory.clientIDs(boundTo: try Self.text(frame.body), lanAddress: lanAddress)))
        case .batchGetClientIDByUID:
            let uids = try Self.arguments(frame, as: [String].self)
            let ids = Dictionary(uniqueKeysWithValues: uids.map { ($0, directory.clientIDs(boundTo: $0, lanAddress: lanAddress)) })
            return try ByteBuffer(json: QueryAnswer.success(ids))
        case .getClientCountByGroup:
            return try ByteBuffer(json: QueryAnswer.success(directory.count(inGroup: try Self.text(frame.body))))
        case .batchGetClientCountByGroup:
            let groups = try Self.arguments(frame, as: [String].self)
            let counts = Dictionary(uniqueKeysWithValues: groups.map { ($0, directory.count(inGroup: $0)) })
            return try ByteBuffer(json: QueryAnswer.success(counts))
        case .getClientSessionsByGroup, .getAllClientSessions:
            let group = try Self.text(frame.body)
            let select = CommandArguments.Select(groups: group.isEmpty ? nil : [group], withSessions: true)
            let sessions = directory.select(select, lanAddress: lanAddress).mapValues { $0.session ?? [:] }
            return try ByteBuffer(json: QueryAnswer.success(sessions))
        case .getGroupIDList:
            return try ByteBuffer(json: QueryAnswer.success(directory.groupNames))
        case .select:
            let select = try Self.arguments(frame, as: CommandArguments.Select.self)
            return try ByteBuffer(json: QueryAnswer.success(directory.select(select, lanAddress: lanAddress)))
        default:
            throw CommandError(description: "\(frame.command) is not a query")
        }
    }

    /// Writes the message of `frame` to the clients whose numbers `select` picks, with one encoded
    /// frame per event loop: a ``GatewayFrame/Flags/laneOnly`` frame only to those of the link's own
    /// loop, at once; any other with one task per loop.
    private func send(_ frame: GatewayFrame, from link: WorkerLink, to select: (ClientDirectory.Table) -> Set<UInt32>) {
        let message = Self.message(frame)
        guard !frame.flags.contains(.laneOnly) else {
            let lanes = directory.lanes
            let connections = directory.table.withLockedValue { table in
                table.connections(select(table).lazy.filter { lanes.lane(ofConnection: $0) == link.lane })
            }
            let shared = SharedMessage(message)
            for connection in connections { connection.write(shared) }
            return
        }
        for (loop, connections) in directory.connectionsByEventLoop({ $0.connections(select($0)) }) {
            if loop !== link.channel.eventLoop { counters.shard(for: link.channel.eventLoop).add(.crossLoopCommands) }
            loop.execute {
                let shared = SharedMessage(message)
                for connection in connections { connection.write(shared) }
            }
        }
    }

    private static func failure(_ error: Error) -> ByteBuffer {
        // A struct of one string always encodes.
        try! ByteBuffer(json: QueryAnswer<Bool>.failure("\(error)"))
    }

    private static func message(_ frame: GatewayFrame) -> ClientOutbound.Message {
        ClientOutbound.Message(bytes: frame.body, isBinary: frame.flags.contains(.binary), isRaw: frame.flags.contains(.raw))
    }

    private static func text(_ buffer: ByteBuffer) throws -> String {
        guard let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes), !text.utf8.contains(0) else {
            throw CommandError(description: "expected UTF-8 text")
        }
        return text
    }

    private static func arguments<T: Decodable>(_ frame: GatewayFrame, as type: T.Type) throws -> T {
        do {
            return try frame.extData.decodeJSON(as: type)
        } catch {
            throw CommandError(description: "malformed arguments for \(frame.command): \(error)")
        }
    }

    private static func arguments<T: Decodable>(_ frame: GatewayFrame, default value: T) throws -> T {
        frame.extData.readableBytes == 0 ? value : try arguments(frame, as: T.self)
    }
}
