import ArgumentParser

@main
struct DataCentered: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datacentered",
        abstract: "DataCentered: a realtime gateway / business-worker cluster for datacenter fleets.",
        subcommands: [
            StartSubcommand.self, StopSubcommand.self, RestartSubcommand.self, ReloadSubcommand.self, StatusSubcommand.self,
            ConnectionsSubcommand.self, GatewaySubcommand.self, WorkerSubcommand.self, PushSubcommand.self, AgentSubcommand.self, JobsSubcommand.self, TokenSubcommand.self, SupervisedExecSubcommand.self,
        ]
    )
}
