import ArgumentParser
import DataCenterClient
import DataCenterProtocol

extension JobsSubcommand {
    /// `datacentered jobs timers`: the timers registered on a host's agent; each run is a job.
    struct Timers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, add and remove the timers on a host's agent (run an action every N seconds).",
            discussion: "Each run of a timer is a job, listed by 'jobs list' as requested by timer:NAME. Changes for an offline host are queued and applied when its agent connects.",
            subcommands: [List.self, Add.self, Remove.self]
        )

        /// Prints the host's timers, one per line, then the changes still waiting for its agent.
        static func printTimers(_ reply: HostTimersReply) {
            print(["NAME", "EVERY", "ACTION", "PARAMS"].joined(separator: "\t"))
            for timer in reply.timers {
                let params = timer.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                print([timer.name, "\(timer.everySeconds)s", timer.action, params].joined(separator: "\t"))
            }
            if reply.queued == true { print("The host is offline: the change is queued and applied when its agent connects.") }
            for change in reply.pending ?? [] {
                print("pending: \(change.change.rawValue) \(change.name) (\(change.requestedBy), \(change.requestedAt))")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the timers on a host.")

            @Argument(help: "The host.") var host: String
            @OptionGroup var connection: ConnectionOptions

            func run() async throws {
                let host = self.host
                Timers.printTimers(try await connection.withSession { dc in try await dc.timers(host: host) })
            }
        }

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add (or replace) a timer that runs an action on a host every N seconds.",
                discussion: "Parameters are name=value pairs, checked against the action's typed parameters."
            )

            @Argument(help: "The host.") var host: String
            @Argument(help: "The timer's name.") var name: String
            @Argument(help: "Seconds between runs.") var everySeconds: Int
            @Argument(help: "The action, from the host's allow-list.") var action: String
            @Argument(help: "Parameters, name=value.") var params: [String] = []
            @OptionGroup var connection: ConnectionOptions

            func run() async throws {
                let (host, name, action, params, everySeconds) = (host, name, action, try JobsSubcommand.parameters(params), everySeconds)
                let timers = try await connection.withSession { dc in
                    try await dc.addTimer(host: host, name: name, action: action, parameters: params, everySeconds: everySeconds)
                }
                Timers.printTimers(timers)
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a timer from a host.")

            @Argument(help: "The host.") var host: String
            @Argument(help: "The timer's name.") var name: String
            @OptionGroup var connection: ConnectionOptions

            func run() async throws {
                let (host, name) = (host, name)
                Timers.printTimers(try await connection.withSession { dc in try await dc.removeTimer(host: host, name: name) })
            }
        }
    }
}
