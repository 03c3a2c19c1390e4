import Agent
import DataCenter
import DataCenterProtocol
import Foundation
import Supervisor
#if canImport(Glibc)
import Glibc
#endif

/// What `start` does when `supervisor.issueTokens` is on, before any child starts: a new operator
/// token `admin` (replacing the previous one, so each start's token is one-time) and, with the agent
/// role, a new token for this host's agent, written where the supervised agent reads it.
/// The tokens are printed to the terminal once and never logged.
struct StartTokens {
    /// The operator's token, to print.
    var operatorToken: String
    /// The host name this machine's agent reports as, when the agent role is on.
    var agentHost: String?

    static let operatorName = "admin"

    /// Issues the tokens into the workers' token file (hashes only) and the agent's token file (0600).
    static func issue(for configuration: SupervisorConfiguration) throws -> StartTokens {
        let tokensFile = configuration.tokensFilePath
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: tokensFile).deletingLastPathComponent().path, withIntermediateDirectories: true
        )
        var tokens = FileManager.default.fileExists(atPath: tokensFile) ? try DataCenter.TokenHashFile.load(from: tokensFile) : DataCenter.TokenHashFile()
        let operatorToken = tokens.issue(name: operatorName, role: .operator, graceSeconds: nil)
        var agentHost: String?
        var agentToken: String?
        if configuration.roles.contains(.agent) {
            let host = try AgentConfiguration.load(from: configuration.agent.config).resolvedHost
            guard AgentAuthRequest.isValidHostName(host) else {
                throw SupervisorError.tokenIssuing(reason: "this host's name '\(host)' is not a valid agent name: set 'host' in \(configuration.agent.config)")
            }
            agentToken = tokens.issue(name: host, role: .agent, graceSeconds: nil)
            agentHost = host
        }
        try tokens.save(to: tokensFile)
        if let agentToken {
            try writeOwnerOnly(agentToken + "\n", to: configuration.localAgentTokenFile)
        }
        return StartTokens(operatorToken: operatorToken, agentHost: agentHost)
    }

    /// The lines a new user needs: where the dashboard is, how to sign in, how to stop.
    func banner(for configuration: SupervisorConfiguration, configurationPath: String?) -> String {
        let gateway = configuration.localGatewayURL ?? "ws://\(configuration.gateway.listen)/"
        let dashboard = "http" + gateway.dropFirst(2)
        let configurationFlag = configurationPath.map { " --config \($0)" } ?? ""
        var lines = [
            "",
            "DataCentered",
            "  dashboard:       \(dashboard)",
            "  operator token:  \(operatorToken)",
            "                   (sign in with it; the next start replaces it; it is not kept anywhere)",
        ]
        if let agentHost { lines.append("  this host:       \(agentHost), reporting through its local agent") }
        lines += [
            "  status:          \(ExecutablePath.current) status\(configurationFlag)",
            "  stop:            \(ExecutablePath.current) stop\(configurationFlag) (or Ctrl-C in the foreground)",
            "",
        ]
        return lines.joined(separator: "\n")
    }

    private static func writeOwnerOnly(_ text: String, to path: String) throws {
        let temporary = path + ".new"
        unlink(temporary)
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]),
              chmod(temporary, 0o600) == 0, rename(temporary, path) == 0
        else {
            throw SupervisorError.tokenIssuing(reason: "cannot write the agent's token file \(path): \(String(cString: strerror(errno)))")
        }
    }
}
