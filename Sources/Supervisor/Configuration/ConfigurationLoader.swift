import Configuration
import Foundation
import SystemPackage

/// Reads a ``SupervisorConfiguration`` from command-line flags, then `DATACENTERED_*` environment
/// variables, then the JSON file, then the defaults (the first that sets a key wins), and checks it.
public struct ConfigurationLoader: Sendable {
    /// The JSON file; nil reads flags, environment and defaults only.
    public var filePath: String?
    /// The environment (`DATACENTERED_GATEWAY_COUNT` sets `gateway.count`).
    public var environment: [String: String]
    /// Flags naming keys (`--gateway-count 3` sets `gateway.count`).
    public var flags: [String]

    /// - Parameters:
    ///   - filePath: the JSON file, or nil.
    ///   - environment: the environment to read `DATACENTERED_*` variables from.
    ///   - flags: `--key value` pairs, one flag per key.
    public init(filePath: String?, environment: [String: String] = ProcessInfo.processInfo.environment, flags: [String] = []) {
        self.filePath = filePath
        self.environment = environment
        self.flags = flags
    }

    /// Reads and checks every key; throws a ``ConfigurationError`` naming the first bad key.
    /// - Parameter strict: false reads what it can, with defaults for bad values and no checks: enough
    ///   for `status` or `stop` to find the run directory of a cluster whose file was since broken.
    public func load(strict: Bool = true) async throws -> SupervisorConfiguration {
        let fileKeys = strict ? try filePath.map(Self.leafKeys(ofFile:)) ?? [:] : [:]
        var providers: [any ConfigProvider] = [
            CommandLineArgumentsProvider(arguments: ["datacentered"] + flags, secretsSpecifier: .specific(["--secret-key"])),
            EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(["SECRET_KEY"]))
                .prefixKeys(with: ["datacentered"]),
        ]
        if let filePath {
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(filePath)))
            } catch {
                throw ConfigurationError.unreadableFile(path: filePath, reason: "\(error)")
            }
        }
        let keys = ConfigurationKeyReader(reader: ConfigReader(providers: providers), fileValues: fileKeys, strict: strict)
        let configuration = try await Self.read(keys)
        guard strict else { return configuration }

        let unknownInFile = fileKeys.keys.filter { !keys.readKeys.contains($0) }.sorted()
        if let filePath, !unknownInFile.isEmpty {
            throw ConfigurationError.unknownKeys(unknownInFile, source: filePath)
        }
        let knownFlags = Set(keys.readKeys.map(ConfigurationKeyNames.flag))
        let unknownFlags = flags.filter { $0.hasPrefix("--") }
            .map { String($0.split(separator: "=", maxSplits: 1)[0]) }
            .filter { !knownFlags.contains($0) }
        if !unknownFlags.isEmpty {
            throw ConfigurationError.unknownKeys(unknownFlags, source: "the command line")
        }
        try ConfigurationValidator.validate(configuration)
        return configuration
    }

    private static func read(_ keys: ConfigurationKeyReader) async throws -> SupervisorConfiguration {
        var configuration = SupervisorConfiguration()
        let roleNames = try await keys.strings("roles", default: configuration.roles.map(\.rawValue))
        configuration.roles = try roleNames.map { name in
            guard let role = SupervisorConfiguration.Role(rawValue: name) else {
                throw ConfigurationError.invalidValue(
                    key: "roles", value: "\"\(name)\"", allowed: SupervisorConfiguration.Role.allCases.map(\.rawValue).joined(separator: ", ")
                )
            }
            return role
        }
        configuration.secretKey = try await keys.string("secretKey", default: configuration.secretKey, isSecret: true)
        configuration.logLevel = try await keys.string("log.level", default: configuration.logLevel)

        var gateway = configuration.gateway
        gateway.count = try await keys.int("gateway.count", default: gateway.count)
        gateway.listen = try await keys.string("gateway.listen", default: gateway.listen)
        gateway.listenTLS = try await keys.string("gateway.listenTLS", default: gateway.listenTLS)
        gateway.tlsCertificate = try await keys.string("gateway.tlsCertificate", default: gateway.tlsCertificate)
        gateway.tlsKey = try await keys.string("gateway.tlsKey", default: gateway.tlsKey)
        gateway.linkCertificate = try await keys.string("gateway.linkCertificate", default: gateway.linkCertificate)
        gateway.linkKey = try await keys.string("gateway.linkKey", default: gateway.linkKey)
        gateway.listenText = try await keys.string("gateway.listenText", default: gateway.listenText)
        gateway.reusePort = try await keys.bool("gateway.reusePort", default: gateway.reusePort)
        gateway.lanIP = try await keys.string("gateway.lanIP", default: gateway.lanIP)
        gateway.lanStartPort = try await keys.int("gateway.lanStartPort", default: gateway.lanStartPort)
        gateway.router = try await keys.string("gateway.router", default: gateway.router)
        gateway.eventLoops = try await keys.int("gateway.eventLoops", default: gateway.eventLoops)
        gateway.extraArguments = try await keys.strings("gateway.extraArguments", default: gateway.extraArguments)
        configuration.gateway = gateway

        var worker = configuration.worker
        worker.count = try await keys.int("worker.count", default: worker.count)
        worker.handler = try await keys.string("worker.handler", default: worker.handler)
        worker.linkCA = try await keys.string("worker.linkCA", default: worker.linkCA)
        worker.tokensFile = try await keys.string("worker.tokensFile", default: worker.tokensFile)
        worker.maxConcurrentEvents = try await keys.int("worker.maxConcurrentEvents", default: worker.maxConcurrentEvents)
        worker.extraArguments = try await keys.strings("worker.extraArguments", default: worker.extraArguments)
        configuration.worker = worker

        var memcached = configuration.memcached
        memcached.servers = try await keys.strings("memcached.servers", default: memcached.servers)
        memcached.localPort = try await keys.int("memcached.localPort", default: memcached.localPort)
        memcached.localMemoryMB = try await keys.int("memcached.localMemoryMB", default: memcached.localMemoryMB)
        memcached.keyPrefix = try await keys.string("memcached.keyPrefix", default: memcached.keyPrefix)
        configuration.memcached = memcached

        configuration.agent.config = try await keys.string("agent.config", default: configuration.agent.config)
        configuration.agent.extraArguments = try await keys.strings("agent.extraArguments", default: configuration.agent.extraArguments)

        var supervision = configuration.supervisor
        supervision.runDirectory = try await keys.string("supervisor.runDirectory", default: supervision.runDirectory)
        supervision.logDirectory = try await keys.string("supervisor.logDirectory", default: supervision.logDirectory)
        supervision.stopGraceSeconds = try await keys.double("supervisor.stopGraceSeconds", default: supervision.stopGraceSeconds)
        supervision.restartDelayMaxSeconds = try await keys.double(
            "supervisor.restartDelayMaxSeconds", default: supervision.restartDelayMaxSeconds
        )
        supervision.restartResetSeconds = try await keys.double("supervisor.restartResetSeconds", default: supervision.restartResetSeconds)
        supervision.metricsListen = try await keys.string("supervisor.metricsListen", default: supervision.metricsListen)
        supervision.childMetricsHost = try await keys.string("supervisor.childMetricsHost", default: supervision.childMetricsHost)
        supervision.issueTokens = try await keys.bool("supervisor.issueTokens", default: supervision.issueTokens)
        configuration.supervisor = supervision
        return configuration
    }

    /// Every key the file sets, dotted (`gateway.count`), with its value as JSON text; arrays are leaves.
    static func leafKeys(ofFile path: String) throws -> [String: String] {
        let object: Any
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ConfigurationError.unreadableFile(path: path, reason: "\(error.localizedDescription)")
        }
        guard let root = object as? [String: Any] else {
            throw ConfigurationError.unreadableFile(path: path, reason: "the top level is not a JSON object")
        }
        var leaves: [String: String] = [:]
        func walk(_ dictionary: [String: Any], prefix: String) {
            for (name, value) in dictionary {
                let key = prefix.isEmpty ? name : "\(prefix).\(name)"
                if let nested = value as? [String: Any] {
                    walk(nested, prefix: key)
                } else {
                    let text = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]))
                        .flatMap { String(data: $0, encoding: .utf8) }
                    leaves[key] = text ?? "\(value)"
                }
            }
        }
        walk(root, prefix: "")
        return leaves
    }
}
