import ArgumentParser
import Foundation
import Supervisor

/// The configuration every supervisor command reads: `--config FILE` and any key as a flag.
struct ClusterOptions: ParsableArguments {
    @Option(help: "The configuration file (JSON). Default: Config/datacentered.json when it exists, else the built-in defaults.")
    var config: String?

    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp("Any configuration key as a flag: gateway.count is --gateway-count 4 (beats DATACENTERED_GATEWAY_COUNT, which beats the file).", valueName: "--key value")
    )
    var keys: [String] = []

    /// The file to read, made absolute (the daemon and the agent read it from elsewhere).
    var configurationPath: String? {
        let path = config ?? (FileManager.default.fileExists(atPath: "Config/datacentered.json") ? "Config/datacentered.json" : nil)
        return path.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }

    /// Loads and checks the configuration; directories and files in it are made absolute (children may run elsewhere).
    /// - Parameter strict: false for the commands that only need the run directory (`status`, `stop`, ...):
    ///   they work even when the file was broken after the cluster started.
    func load(strict: Bool = true) async throws -> (SupervisorConfiguration, ConfigurationLoader) {
        let loader = ConfigurationLoader(filePath: configurationPath, flags: keys)
        var configuration = try await loader.load(strict: strict)
        configuration.supervisor.runDirectory = Self.absolute(configuration.supervisor.runDirectory)
        configuration.supervisor.logDirectory = Self.absolute(configuration.supervisor.logDirectory)
        configuration.agent.config = Self.absolute(configuration.agent.config)
        if !configuration.worker.tokensFile.isEmpty { configuration.worker.tokensFile = Self.absolute(configuration.worker.tokensFile) }
        return (configuration, loader)
    }

    private static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
