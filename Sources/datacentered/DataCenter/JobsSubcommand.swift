import Agent
import ArgumentParser
import DataCenterClient
import DataCenterProtocol
import Foundation
import Logging
import NIOSSL

/// `datacentered jobs`: the operator's command line: list hosts and jobs, and run an action on a host
/// with its output streamed to the terminal, over a gateway's WebSocket with an operator or service token.
struct JobsSubcommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Run actions on hosts and list hosts and jobs, as an operator or service.",
        subcommands: [Run.self, Hosts.self, List.self, Cancel.self, Timers.self]
    )

    /// `name=value` arguments as parameters.
    static func parameters(_ pairs: [String]) throws -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("'\(pair)' is not name=value") }
            parameters[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return parameters
    }

    struct ConnectionOptions: ParsableArguments {
        @Option(help: "Gateway URL (wss://host:port/, or ws:// on a trusted network); repeat for several.")
        var gateway: [String] = ["ws://127.0.0.1:8282/"]

        @Option(help: "File holding the operator or service token (mode 0600); DATACENTERED_TOKEN is used when absent.")
        var tokenFile: String?

        @Option(help: "CA certificate (PEM) that verifies wss:// gateways; the system's roots otherwise.")
        var caFile: String?

        @Option(help: "Seconds to wait for a gateway to accept the token before giving up, at the start and after a lost connection.")
        var connectTimeout = 10.0

        @OptionGroup var log: LogOptions

        /// Connects, runs `body` on the authenticated session, and returns what it returns.
        func withSession<Result: Sendable>(_ body: @escaping @Sendable (OperatorSession) async throws -> Result) async throws -> Result {
            let logger = log.bootstrap(role: "jobs")
            guard let token = try tokenFile.map({ path in try Agent.SecretTokenFile.read(path) }) ?? ProcessInfo.processInfo.environment["DATACENTERED_TOKEN"]
            else { throw ValidationError("give --token-file or set DATACENTERED_TOKEN") }
            var tls = TLSConfiguration.makeClientConfiguration()
            if let caFile { tls.trustRoots = .file(caFile) }
            // A ws:// URL given on the command line is the operator's explicit choice.
            let connector = try WebSocketConnector(tls: tls, allowPlainWebSocket: true)
            let client = OperatorClient(
                endpoints: try gateway.map(GatewayEndpoint.init), token: token, connector: connector,
                connectTimeout: .milliseconds(Int64(connectTimeout * 1000)), logger: logger)
            return try await client.withSession(body)
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run an action on a host and stream its output; exits with the job's exit status.",
            discussion: "Parameters are name=value pairs, checked against the action's typed parameters. Standard output and standard error of the job go to this command's own."
        )

        @Argument(help: "The host.") var host: String
        @Argument(help: "The action, from the host's allow-list.") var action: String
        @Argument(help: "Parameters, name=value.") var params: [String] = []

        @Option(help: "Seconds the job may run.") var timeout: Int?
        @Option(help: "Text for the job's standard input.") var stdin: String?
        @Flag(help: "Queue the job and print its id without waiting for it.") var detach = false
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let (host, action, params, stdin, timeout, detach) = (host, action, try JobsSubcommand.parameters(params), stdin, timeout, detach)
            let status = try await connection.withSession { dc in
                if detach {
                    print(try await dc.queueJob(host: host, action: action, parameters: params, stdin: stdin, timeoutSeconds: timeout).id)
                    return Int32(0)
                }
                let run = try await dc.runJob(host: host, action: action, parameters: params, stdin: stdin, timeoutSeconds: timeout)
                FileHandle.standardError.write(Data("job \(run.job.id) \(run.job.state.rawValue) on \(run.job.host)\n".utf8))
                return try await JobOutputPrinter.print(run)
            }
            throw ExitCode(status)
        }
    }

    struct Hosts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the hosts with their latest figures.")

        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withSession { dc in
                let hosts = try await dc.hosts()
                print(["HOST", "STATE", "CPU%", "MEM%", "LOAD1", "RX/s", "TX/s", "VPS", "LAST REPORT"].joined(separator: "\t"))
                for host in hosts {
                    let cells = [
                        host.host, host.online ? "online" : "offline", Self.number(host.cpu), Self.number(host.memoryUsedPercent),
                        Self.number(host.load1), Self.number(host.rxRate), Self.number(host.txRate),
                        host.vpsCount.map(String.init) ?? "-", host.lastReportAt.map { "\($0)" } ?? "-",
                    ]
                    print(cells.joined(separator: "\t"))
                }
            }
        }

        private static func number(_ value: Double?) -> String {
            value.map { String(format: "%.1f", $0) } ?? "-"
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the newest jobs, of one host or all.")

        @Option(help: "Only this host's jobs.") var host: String?
        @Option(help: "At most this many.") var limit = 50
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let (host, limit) = (host, limit)
            try await connection.withSession { dc in
                let jobs = try await dc.jobs(host: host, limit: limit)
                print(["JOB", "HOST", "ACTION", "STATE", "EXIT", "BY", "QUEUED"].joined(separator: "\t"))
                for job in jobs {
                    let exit = job.exitCode.map(String.init) ?? job.signal.map { "signal \($0)" } ?? "-"
                    print([job.id, job.host, job.action, job.state.rawValue, exit, job.requestedBy, "\(job.queuedAt)"].joined(separator: "\t"))
                }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a job: a queued one at once, a running one by its agent (SIGTERM, then SIGKILL).")

        @Argument(help: "The job's id.") var job: String
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let job = self.job
            let record = try await connection.withSession { dc in try await dc.cancel(job: job) }
            print("job \(record.id) \(record.state.rawValue)\(record.cancelRequestedAt == nil ? "" : ", cancel sent to its agent")")
        }
    }
}
