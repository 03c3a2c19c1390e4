import ArgumentParser
import Client
import Cluster
import Foundation
import Logging
import Registry
import Wire

/// `datacentered push`: the cluster API from shell scripts and other services.
struct PushSubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send to clients and query the cluster from other services (GatewayWorker's GatewayClient).",
        subcommands: [PushSend.self, PushOnline.self, PushCount.self, PushClients.self, PushUIDs.self, PushGroups.self, PushSession.self]
    )
}

/// What every push subcommand needs: where the registry is, the key, and a time limit.
struct PushOptions: ParsableArguments {
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var secret: SecretOptions

    @Option(help: "Milliseconds to wait for connecting and for each gateway's answer.")
    var timeout = 5000

    /// Runs `body` with the cluster API and closes the connections after it (flushing what it sent).
    func withAPI<T: Sendable>(_ body: (ClusterAPI) async throws -> T) async throws -> T {
        var logger = Logger(label: "datacentered.push")
        logger.logLevel = .error
        let memcached = try registry.makeClient()
        let client: GatewayClient
        do {
            client = try GatewayClient(
                registry: GatewayRegistry(client: memcached, prefix: registry.keyPrefix),
                secretKey: secret.resolvedSecretKey,
                timeout: .milliseconds(Int64(timeout)),
                logger: logger
            )
        } catch {
            await memcached.shutdown()
            throw error
        }
        do {
            let result = try await body(client.api)
            await client.shutdown()
            await memcached.shutdown()
            return result
        } catch {
            await client.shutdown()
            await memcached.shutdown()
            throw error
        }
    }
}

/// `push send`: one message to a client, a uid, a group, or everyone.
struct PushSend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "send", abstract: "Send a text message.")

    @Option(help: "A client id.") var client: String?
    @Option(help: "Every client bound to this uid.") var uid: String?
    @Option(help: "Every member of this group.") var group: String?
    @Flag(help: "Every client.") var all = false
    @Option(help: "A client id not to send to (repeatable; with --group or --all).") var exclude: [String] = []
    @Argument(help: "The message.") var message: String
    @OptionGroup var options: PushOptions

    func validate() throws {
        guard [client != nil, uid != nil, group != nil, all].filter({ $0 }).count == 1 else {
            throw ValidationError("say exactly one of --client, --uid, --group, --all")
        }
    }

    func run() async throws {
        let excluded = try exclude.map(ClientID.parse)
        let text = OutgoingMessage.text(message)
        try await options.withAPI { api in
            if let client { try await api.sendToClient(try ClientID.parse(client), text) }
            if let uid { try await api.sendToUID(uid, text) }
            if let group { try await api.sendToGroup(group, text, excluding: excluded) }
            if all { try await api.sendToAll(text, excluding: excluded) }
        }
    }
}

/// `push online`: whether a client or a uid is online; prints true or false.
struct PushOnline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "online", abstract: "Print whether a client or a uid is online.")

    @Option(help: "A client id.") var client: String?
    @Option(help: "A uid.") var uid: String?
    @OptionGroup var options: PushOptions

    func validate() throws {
        guard (client == nil) != (uid == nil) else { throw ValidationError("say one of --client, --uid") }
    }

    func run() async throws {
        let online = try await options.withAPI { api in
            if let client { return try await api.isOnline(try ClientID.parse(client)) }
            return try await api.isUIDOnline(uid!)
        }
        print(online)
    }
}

/// `push count`: connected clients, or members of a group.
struct PushCount: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "count", abstract: "Print the number of clients (in a group).")

    @Option(help: "Count only this group's members.") var group = ""
    @OptionGroup var options: PushOptions

    func run() async throws {
        print(try await options.withAPI { try await $0.getClientCount(inGroup: group) })
    }
}

/// `push clients`: client ids, one per line.
struct PushClients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clients", abstract: "Print client ids, one per line.")

    @Option(help: "Only this group's members.") var group: String?
    @Option(help: "Only clients bound to this uid.") var uid: String?
    @OptionGroup var options: PushOptions

    func run() async throws {
        let ids = try await options.withAPI { api in
            if let uid { return try await api.getClientIDs(forUID: uid) }
            if let group { return try await api.getClientIDs(inGroup: group) }
            return try await api.getAllClientIDs()
        }
        for id in ids { print(id) }
    }
}

/// `push uids`: bound uids, one per line.
struct PushUIDs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "uids", abstract: "Print bound uids, one per line.")

    @Option(help: "Only uids of this group's members.") var group: String?
    @OptionGroup var options: PushOptions

    func run() async throws {
        let uids = try await options.withAPI { api in
            if let group { return try await api.getUIDs(inGroup: group) }
            return try await api.getAllUIDs()
        }
        for uid in uids { print(uid) }
    }
}

/// `push groups`: groups with members, one per line.
struct PushGroups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "groups", abstract: "Print every group with members, one per line.")

    @OptionGroup var options: PushOptions

    func run() async throws {
        for group in try await options.withAPI({ try await $0.getAllGroupIDs() }) { print(group) }
    }
}

/// `push session`: a client's session as JSON (`null` when the client is offline).
struct PushSession: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "session", abstract: "Print a client's session as JSON.")

    @Argument(help: "The client id.") var client: String
    @OptionGroup var options: PushOptions

    func run() async throws {
        let id = try ClientID.parse(client)
        let session = try await options.withAPI { try await $0.getSession(id) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(session.map(JSONValue.object) ?? .null), as: UTF8.self))
    }
}
