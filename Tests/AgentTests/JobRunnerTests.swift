import DataCenterProtocol
import Foundation
import Logging
import XCTest

@testable import Agent

/// The job runner with real child processes (the fixture scripts), a real state directory and spool.
final class JobRunnerTests: XCTestCase {
    private var stateDirectory = ""

    override func setUp() {
        stateDirectory = NSTemporaryDirectory() + "agent-jobs-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    private static let actions: [AllowedAction] = [
        AllowedAction(
            spec: ActionSpec(name: "numbered", params: [
                ActionParameter(name: "count", type: .int), ActionParameter(name: "sleep", type: .int), ActionParameter(name: "code", type: .int),
            ]),
            program: AgentFixtures.bin("numbered-output"), args: ["{count}", "{sleep}", "{code}"]
        ),
        AllowedAction(spec: ActionSpec(name: "cat"), program: "/bin/cat"),
        AllowedAction(spec: ActionSpec(name: "stubborn"), program: "trap '' TERM; echo ready; sleep 30", shell: true),
        AllowedAction(spec: ActionSpec(name: "chatty"), program: "head -c 100000 /dev/zero | tr '\\0' x", shell: true),
        AllowedAction(
            spec: ActionSpec(name: "vps.ping", params: [
                ActionParameter(name: "vps", type: .vpsName), ActionParameter(name: "ip", type: .ip, required: false),
                ActionParameter(name: "mode", type: .enum, required: false, values: ["soft", "hard"]),
            ]),
            program: "/bin/echo", args: ["{vps}", "{ip}", "{mode}"]
        ),
    ]

    private func makeRunner(limits: (inout AgentConfiguration.JobLimits) -> Void = { _ in }) throws -> (JobRunner, OutboundSpool) {
        var jobLimits = AgentConfiguration.JobLimits()
        jobLimits.cancelGraceSeconds = 0.5
        limits(&jobLimits)
        let spool = try OutboundSpool(stateDirectory: stateDirectory, maximumBytes: jobLimits.spoolMaxBytes)
        let runner = try JobRunner(actions: Self.actions, limits: jobLimits, stateDirectory: stateDirectory, spool: spool, logger: Logger(label: "test"))
        return (runner, spool)
    }

    private func start(_ runner: JobRunner, _ job: String, _ action: String, _ params: [String: String] = [:], stdin: String? = nil, timeout: Int = 20) async throws(ProtocolError) -> JobState {
        try await runner.start(JobStartRequest(job: job, action: action, params: params, stdin: stdin, timeoutSeconds: timeout))
    }

    func testOutputStreamsInOrderAndTheExitStatusIsExact() async throws {
        let (runner, spool) = try makeRunner()
        let state = try await start(runner, "j1", "numbered", ["count": "3", "sleep": "0", "code": "7"])
        XCTAssertEqual(state, .running)
        let result = try await JobResult.wait(for: "j1", in: spool)
        XCTAssertEqual(result.finished.state, .failed)
        XCTAssertEqual(result.finished.exitCode, 7)
        XCTAssertNil(result.finished.signal)
        XCTAssertEqual(result.chunks.map(\.seq), Array(0..<result.chunks.count), "numbered from 0 without gaps")
        XCTAssertEqual(result.text(.stdout), "out 1\nout 2\nout 3\ndone\n")
        XCTAssertEqual(result.text(.stderr), "err 1\nerr 2\nerr 3\n")
        let running = await runner.runningJobs
        XCTAssertEqual(running, [])
        let recorded = await runner.record("j1")?.state
        XCTAssertEqual(recorded, .failed)
    }

    func testStdinGivenAtStartIsWrittenAndClosed() async throws {
        let (runner, spool) = try makeRunner()
        _ = try await start(runner, "cat-1", "cat", stdin: "hello\nworld\n")
        let result = try await JobResult.wait(for: "cat-1", in: spool)
        XCTAssertEqual(result.finished.state, .done)
        XCTAssertEqual(result.finished.exitCode, 0)
        XCTAssertEqual(result.text(.stdout), "hello\nworld\n")
    }

    func testStdinStreamedWhileTheJobRuns() async throws {
        let (runner, spool) = try makeRunner()
        _ = try await start(runner, "cat-2", "cat")
        try await runner.writeStdin(job: "cat-2", data: "first\n", endOfFile: false)
        _ = try await JobResult.waitForOutput(containing: "first\n", job: "cat-2", in: spool)
        try await runner.writeStdin(job: "cat-2", data: "second\n", endOfFile: true)
        let result = try await JobResult.wait(for: "cat-2", in: spool)
        XCTAssertEqual(result.text(.stdout), "first\nsecond\n")
        XCTAssertEqual(result.finished.state, .done)
        do {
            try await runner.writeStdin(job: "cat-2", data: "late", endOfFile: true)
            XCTFail("stdin to a finished job must be refused")
        } catch {
            XCTAssertEqual(error.code, .conflict)
        }
    }

    func testCancelSendsTermToTheProcessGroup() async throws {
        let (runner, spool) = try makeRunner()
        _ = try await start(runner, "long", "numbered", ["count": "1", "sleep": "30", "code": "0"])
        _ = try await JobResult.waitForOutput(containing: "out 1", job: "long", in: spool)
        let began = ContinuousClock.now
        let state = try await runner.cancel("long")
        XCTAssertEqual(state, .cancelled)
        XCTAssertLessThan(ContinuousClock.now - began, .seconds(5), "the shell and its sleep both ended on SIGTERM")
        let result = try await JobResult.wait(for: "long", in: spool)
        XCTAssertEqual(result.finished.state, .cancelled)
        XCTAssertEqual(result.finished.signal, 15)
        do {
            _ = try await runner.cancel("long")
            XCTFail("cancelling a finished job is a conflict")
        } catch {
            XCTAssertEqual(error.code, .conflict)
        }
        do {
            _ = try await runner.cancel("never-started")
            XCTFail("cancelling an unknown job is not_found")
        } catch {
            XCTAssertEqual(error.code, .notFound)
        }
    }

    func testAProcessThatIgnoresTermIsKilledAfterTheGrace() async throws {
        let (runner, spool) = try makeRunner()
        _ = try await start(runner, "stubborn", "stubborn")
        _ = try await JobResult.waitForOutput(containing: "ready", job: "stubborn", in: spool)
        let cancelledState = try await runner.cancel("stubborn")
        XCTAssertEqual(cancelledState, .cancelled)
        let result = try await JobResult.wait(for: "stubborn", in: spool)
        XCTAssertEqual(result.finished.signal, 9)
    }

    func testTimeoutEndsTheJobAsTimedOut() async throws {
        let (runner, spool) = try makeRunner()
        _ = try await start(runner, "slow", "numbered", ["count": "1", "sleep": "30", "code": "0"], timeout: 1)
        let result = try await JobResult.wait(for: "slow", in: spool, timeout: .seconds(15))
        XCTAssertEqual(result.finished.state, .timedOut)
        XCTAssertEqual(result.finished.signal, 15)
        XCTAssertGreaterThanOrEqual(result.finished.durationMs, 1000)
        XCTAssertLessThan(result.finished.durationMs, 10_000)
    }

    func testOutputBeyondTheCapIsDiscardedWithANote() async throws {
        let (runner, spool) = try makeRunner { $0.outputCapBytes = 1000 }
        _ = try await start(runner, "chatty", "chatty")
        let result = try await JobResult.wait(for: "chatty", in: spool)
        XCTAssertEqual(result.finished.state, .done, "the process is drained, not killed")
        XCTAssertEqual(result.text(.stdout).count, 1000)
        XCTAssertTrue(result.text(.stderr).contains("output truncated"))
    }

    func testConcurrentJobLimitAnswersBusy() async throws {
        let (runner, spool) = try makeRunner { $0.maxConcurrent = 1 }
        _ = try await start(runner, "first", "numbered", ["count": "1", "sleep": "30", "code": "0"])
        do {
            _ = try await start(runner, "second", "cat", stdin: "x")
            XCTFail("a second job over the limit must be refused")
        } catch {
            XCTAssertEqual(error.code, .busy)
        }
        let running = await runner.runningJobs
        XCTAssertEqual(running, ["first"])
        let refusedRecord = await runner.record("second")
        XCTAssertNil(refusedRecord, "a refused job leaves no record: it may be sent again later")
        _ = try await runner.cancel("first")
        _ = try await JobResult.wait(for: "first", in: spool)
    }

    func testActionsAndParametersOutsideTheAllowListAreRefused() async throws {
        let (runner, _) = try makeRunner()
        let refusals: [(String, [String: String], ErrorCode)] = [
            ("rm", ["path": "/"], .forbidden),
            ("vps.ping", [:], .badRequest),
            ("vps.ping", ["vps": "-rf"], .badRequest),
            ("vps.ping", ["vps": "../etc"], .badRequest),
            ("vps.ping", ["vps": "vm1", "ip": "10.0.0.300"], .badRequest),
            ("vps.ping", ["vps": "vm1", "mode": "nuke"], .badRequest),
            ("vps.ping", ["vps": "vm1", "extra": "x"], .badRequest),
        ]
        for (index, (action, params, code)) in refusals.enumerated() {
            do {
                _ = try await start(runner, "refused-\(index)", action, params)
                XCTFail("\(action) \(params) must be refused")
            } catch {
                XCTAssertEqual(error.code, code, "\(action) \(params): \(error)")
            }
        }
        do {
            _ = try await start(runner, "../escape", "cat")
            XCTFail("a job id that is not a plain name must be refused")
        } catch {
            XCTAssertEqual(error.code, .badRequest)
        }
    }

    func testParametersAreSeparateArgumentsNeverShellText() async throws {
        let (runner, spool) = try makeRunner()
        _ = try await start(runner, "echo", "vps.ping", ["vps": "vm1", "ip": "fe80::1", "mode": "soft"])
        let result = try await JobResult.wait(for: "echo", in: spool)
        XCTAssertEqual(result.text(.stdout), "vm1 fe80::1 soft\n")
        let optional = try XCTUnwrap(Self.actions.first { $0.name == "vps.ping" }).commandLine(for: ["vps": "vm1"])
        XCTAssertEqual(optional.arguments, ["vm1"], "an optional parameter not given drops its element")
        let shell = AllowedAction(spec: ActionSpec(name: "s", params: [ActionParameter(name: "v", type: .string)]), program: "echo \"$1\"", args: ["{v}"], shell: true)
        XCTAssertEqual(try shell.commandLine(for: ["v": "a; rm -rf /"]).arguments, ["-c", "echo \"$1\"", "s", "a; rm -rf /"])
    }

    func testAJobDeliveredAgainIsAnsweredWithItsStateAndNotRunTwice() async throws {
        let (runner, spool) = try makeRunner()
        _ = try await start(runner, "once", "numbered", ["count": "1", "sleep": "0", "code": "0"])
        let first = try await JobResult.wait(for: "once", in: spool)
        XCTAssertEqual(first.finished.state, .done)
        let again = try await start(runner, "once", "numbered", ["count": "1", "sleep": "0", "code": "0"])
        XCTAssertEqual(again, .done)

        // A new runner on the same state directory (the agent restarted) remembers it too.
        let (restarted, restartedSpool) = try makeRunner()
        let afterRestart = try await start(restarted, "once", "numbered", ["count": "1", "sleep": "0", "code": "0"])
        XCTAssertEqual(afterRestart, .done)
        let entries = await restartedSpool.entries(after: 0, limit: 1000)
        XCTAssertEqual(entries.filter { if case .finished = $0.message { return true } else { return false } }.count, 1, "one result only")
    }

    func testAJobRunningWhenTheAgentDiedIsReportedLost() async throws {
        let store = try JobStore(stateDirectory: stateDirectory)
        try store.save(AgentJobRecord(id: "orphan", action: "cat", params: [:], state: .running, startedAt: Date().addingTimeInterval(-5)))
        let (runner, spool) = try makeRunner()
        await runner.recover()
        let orphanState = await runner.record("orphan")?.state
        XCTAssertEqual(orphanState, .lost)
        let result = try await JobResult.wait(for: "orphan", in: spool)
        XCTAssertEqual(result.finished.state, .lost)
        XCTAssertGreaterThanOrEqual(result.finished.durationMs, 5000)
    }
}
