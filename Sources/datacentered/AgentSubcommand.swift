import Agent
import ArgumentParser
import Logging
import ServiceLifecycle

/// `datacentered agent`: the host agent of one VPS host node.
struct AgentSubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the host agent: report this host to the gateways and run the jobs of its allow-list.",
        discussion: "Every key of the config file is described in Config/agent.example.json."
    )

    @Option(help: "The agent's JSON config file.")
    var config = "/etc/datacentered/agent.json"

    @Option(help: "This host's name in the fleet (overrides 'host' in the config).")
    var host: String?

    @Option(help: "Gateway URLs, comma-separated (override 'gateways' in the config).")
    var gateways: String?

    @Option(help: "State directory (overrides 'stateDirectory' in the config).")
    var stateDirectory: String?

    @OptionGroup var log: LogOptions

    func run() async throws {
        let logger = log.bootstrap(role: "agent")
        var configuration = try AgentConfiguration.load(from: config)
        if let host { configuration.host = host }
        if let gateways { configuration.gateways = gateways.split(separator: ",").map(String.init) }
        if let stateDirectory { configuration.stateDirectory = stateDirectory }
        let agent: HostAgent
        do {
            agent = try HostAgent(configuration: configuration, logger: logger)
        } catch {
            logger.critical("agent not started: \(error)")
            throw ExitCode(2)
        }
        let services = ServiceGroup(
            configuration: .init(services: [.init(service: agent)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await services.run()
    }
}
