import Foundation

/// `job.start`: the central side asks an agent to run a job.
public struct JobStartRequest: Codable, Sendable, Hashable {
    public var job: String
    public var action: String
    public var params: [String: String]
    public var stdin: String?
    public var timeoutSeconds: Int

    public init(job: String, action: String, params: [String: String], stdin: String? = nil, timeoutSeconds: Int) {
        self.job = job
        self.action = action
        self.params = params
        self.stdin = stdin
        self.timeoutSeconds = timeoutSeconds
    }
}

/// The reply to `job.start` and `job.cancel`: the job's state on the agent (`running`, or the final
/// state when the job id had already run there).
public struct JobStateReply: Codable, Sendable, Hashable {
    public var state: JobState

    public init(state: JobState) {
        self.state = state
    }
}

/// The reply to `jobs.running`: the ids of the jobs running on the agent.
public struct RunningJobsReply: Codable, Sendable, Hashable {
    public var jobs: [String]

    public init(jobs: [String]) {
        self.jobs = jobs
    }
}

/// `timer.add`, and one line of the reply to `timer.list`: run `action` every `everySeconds`.
public struct TimerSpec: Codable, Sendable, Hashable {
    public var name: String
    public var action: String
    public var params: [String: String]
    public var everySeconds: Int

    public init(name: String, action: String, params: [String: String] = [:], everySeconds: Int) {
        self.name = name
        self.action = action
        self.params = params
        self.everySeconds = everySeconds
    }
}

extension TimerSpec {
    /// True for a timer name: 1 to 64 of `A-Z a-z 0-9 . _ : -`, not starting with a dot.
    public static func isValidName(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-".utf8)
        return (1...64).contains(name.utf8.count) && !name.hasPrefix(".") && name.utf8.allSatisfy(allowed.contains)
    }

    /// The prefix of the job ids of timer runs: `timer.<name>.<unix ms>`.
    public static let runPrefix = "timer."

    /// The id of this timer's run that starts at `date`.
    public func runID(at date: Date) -> String {
        "\(Self.runPrefix)\(name).\(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))"
    }

    /// The timer name and start of a timer run's job id; nil for any other job id.
    public static func run(of job: String) -> (timer: String, startedAt: Date)? {
        guard job.hasPrefix(runPrefix), let dot = job.lastIndex(of: "."), let milliseconds = Int64(job[job.index(after: dot)...]) else {
            return nil
        }
        let nameStart = job.index(job.startIndex, offsetBy: runPrefix.count)
        guard dot > nameStart else { return nil }
        let name = job[nameStart..<dot]
        return (String(name), Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}

/// `timer.remove`: which timer.
public struct TimerQuery: Codable, Sendable, Hashable {
    public var name: String

    public init(name: String) {
        self.name = name
    }
}

/// The reply to `timer.list`.
public struct TimerListReply: Codable, Sendable, Hashable {
    public var timers: [TimerSpec]

    public init(timers: [TimerSpec]) {
        self.timers = timers
    }
}

/// `job.finished`: how a job ended on the agent.
public struct JobFinished: Codable, Sendable, Hashable {
    public var job: String
    /// `done`, `failed`, `cancelled` or `timed_out`.
    public var state: JobState
    public var exitCode: Int?
    public var signal: Int?
    public var durationMs: Int

    public init(job: String, state: JobState, exitCode: Int? = nil, signal: Int? = nil, durationMs: Int) {
        self.job = job
        self.state = state
        self.exitCode = exitCode
        self.signal = signal
        self.durationMs = durationMs
    }
}
