import DataCenterProtocol
import Foundation
import Logging
import XCTest

@testable import Agent

/// Timers registered by the central side: checked like jobs, run as jobs, kept on disk.
final class AgentTimersTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = NSTemporaryDirectory() + "agent-timers-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private let actions = [
        AllowedAction(spec: ActionSpec(name: "hello", params: [ActionParameter(name: "who", type: .vpsName)]), program: "/bin/echo", args: ["{who}"])
    ]

    private func makeTimers() throws -> (AgentTimers, OutboundSpool) {
        let spool = try OutboundSpool(stateDirectory: directory, maximumBytes: 1 << 20)
        let runner = try JobRunner(actions: actions, limits: .init(), stateDirectory: directory, spool: spool, logger: Logger(label: "test"))
        return (AgentTimers(actions: actions, runner: runner, stateDirectory: directory, logger: Logger(label: "test")), spool)
    }

    func testATimerRunsItsActionAsJobsUntilRemoved() async throws {
        let (timers, spool) = try makeTimers()
        try await timers.add(TimerSpec(name: "greet", action: "hello", params: ["who": "vm1"], everySeconds: 1))
        let listed = await timers.list
        XCTAssertEqual(listed.map(\.name), ["greet"])

        let deadline = ContinuousClock.now + .seconds(15)
        var finished: [JobFinished] = []
        while finished.count < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            finished = await spool.entries(after: 0, limit: 1000).compactMap {
                if case .finished(let result) = $0.message { return result } else { return nil }
            }
        }
        XCTAssertGreaterThanOrEqual(finished.count, 2, "two runs in 15 s of a 1 s timer")
        XCTAssertTrue(finished.allSatisfy { $0.job.hasPrefix("timer.greet.") && $0.state == .done })
        XCTAssertEqual(Set(finished.map(\.job)).count, finished.count, "each run is its own job")

        try await timers.remove("greet")
        let afterRemoval = await timers.list
        XCTAssertEqual(afterRemoval, [])
        do {
            try await timers.remove("greet")
            XCTFail("removing an unknown timer is not_found")
        } catch {
            XCTAssertEqual(error.code, .notFound)
        }
    }

    func testTimersAreCheckedAgainstTheAllowListAndKeptOnDisk() async throws {
        let (timers, _) = try makeTimers()
        for (spec, code) in [
            (TimerSpec(name: "x", action: "rm", everySeconds: 5), ErrorCode.forbidden),
            (TimerSpec(name: "x", action: "hello", params: ["who": "-rf"], everySeconds: 5), .badRequest),
            (TimerSpec(name: "x", action: "hello", params: ["who": "a"], everySeconds: 0), .badRequest),
            (TimerSpec(name: "../x", action: "hello", params: ["who": "a"], everySeconds: 5), .badRequest),
        ] {
            do {
                try await timers.add(spec)
                XCTFail("\(spec) must be refused")
            } catch {
                XCTAssertEqual(error.code, code, "\(spec)")
            }
        }
        try await timers.add(TimerSpec(name: "hourly", action: "hello", params: ["who": "vm1"], everySeconds: 3600))
        await timers.stopAll()

        let (restarted, _) = try makeTimers()
        await restarted.restore()
        let restored = await restarted.list
        XCTAssertEqual(restored, [TimerSpec(name: "hourly", action: "hello", params: ["who": "vm1"], everySeconds: 3600)])
        await restarted.stopAll()
    }
}
