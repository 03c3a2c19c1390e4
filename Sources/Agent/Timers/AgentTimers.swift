import DataCenterProtocol
import Foundation
import Logging

/// Timers the central side registers on the agent: run an allowed action every N seconds, as a
/// job whose id is `timer.<name>.<unix ms>`. Kept in `<state>/timers.json`, so they outlive an
/// agent restart; checked against the allow-list when added, like any job.
public actor AgentTimers {
    private let actions: [String: AllowedAction]
    private let runner: JobRunner
    private let file: String
    private let logger: Logger
    private var specs: [String: TimerSpec] = [:]
    private var tasks: [String: Task<Void, Never>] = [:]

    public init(actions: [AllowedAction], runner: JobRunner, stateDirectory: String, logger: Logger) {
        self.actions = Dictionary(actions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.runner = runner
        self.file = stateDirectory + "/timers.json"
        self.logger = logger
    }

    /// Starts the timers saved by an earlier run (those whose action is still allowed).
    public func restore() {
        guard let data = FileManager.default.contents(atPath: file), let saved = try? JSONDecoder().decode([TimerSpec].self, from: data) else {
            return
        }
        for spec in saved {
            do throws(ProtocolError) {
                try validate(spec)
                schedule(spec)
            } catch {
                logger.warning("saved timer \(spec.name) dropped: \(error)")
            }
        }
    }

    /// Adds or replaces the timer `spec.name`.
    /// - Throws: `forbidden` for an action not on the allow-list, `bad_request` for a bad name,
    ///   period or parameter.
    public func add(_ spec: TimerSpec) throws(ProtocolError) {
        try validate(spec)
        schedule(spec)
        save()
        logger.notice("timer \(spec.name) added: \(spec.action) every \(spec.everySeconds) s")
    }

    /// Removes the timer `name`; `not_found` when there is none.
    public func remove(_ name: String) throws(ProtocolError) {
        guard specs.removeValue(forKey: name) != nil else { throw ProtocolError(.notFound, "no timer \(name) on this host") }
        tasks.removeValue(forKey: name)?.cancel()
        save()
        logger.notice("timer \(name) removed")
    }

    /// Every timer, by name.
    public var list: [TimerSpec] { specs.values.sorted { $0.name < $1.name } }

    /// Stops every timer (the agent is stopping).
    public func stopAll() {
        for task in tasks.values { task.cancel() }
        tasks = [:]
    }

    private func validate(_ spec: TimerSpec) throws(ProtocolError) {
        guard TimerSpec.isValidName(spec.name) else {
            throw ProtocolError(.badRequest, "timer name must be 1 to 64 letters, digits or ._:- and not start with a dot")
        }
        guard spec.everySeconds >= 1 else { throw ProtocolError(.badRequest, "everySeconds must be at least 1") }
        guard let action = actions[spec.action] else {
            throw ProtocolError(.forbidden, ActionRefusal.notAllowed(spec.action).description)
        }
        do {
            _ = try action.commandLine(for: spec.params)
        } catch {
            throw ProtocolError(.badRequest, error.description)
        }
    }

    private func schedule(_ spec: TimerSpec) {
        tasks[spec.name]?.cancel()
        specs[spec.name] = spec
        tasks[spec.name] = Task { [runner, logger] in
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .seconds(spec.everySeconds))
                } catch {
                    return
                }
                let job = spec.runID(at: Date())
                do throws(ProtocolError) {
                    _ = try await runner.start(JobStartRequest(job: job, action: spec.action, params: spec.params, timeoutSeconds: 0))
                } catch {
                    logger.warning("timer \(spec.name): job not started: \(error)")
                }
            }
        }
    }

    private func save() {
        do {
            try JSONEncoder().encode(list).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            logger.error("cannot save the timers to \(file): \(error)")
        }
    }
}
