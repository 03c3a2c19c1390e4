import ClusterTesting
import DataCenter
import Foundation
import Logging
import XCTest

/// The token file and its verifier: hashes only, mode 0600, rotation with a grace period, re-read on change.
final class TokenTests: XCTestCase {
    private var directory: URL!
    private var path: String { directory.appendingPathComponent("tokens.json").path }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testFileHoldsOnlyHashesAndIsPrivate() throws {
        var file = TokenHashFile()
        let token = file.issue(name: "node-1", role: .agent, graceSeconds: nil)
        try file.save(to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertFalse(text.contains(token))
        XCTAssertTrue(text.contains(TokenHashFile.hash(token)))
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        XCTAssertEqual(mode & 0o777, 0o600)
    }

    func testRotationKeepsTheOldTokenForTheGracePeriodOnly() throws {
        let verifier = TokenVerifier(path: path, logger: Logger(label: "test"))
        var file = TokenHashFile()
        let old = file.issue(name: "alice", role: .operator, graceSeconds: nil)
        try file.save(to: path)
        XCTAssertEqual(verifier.verifyOperator(token: old)?.name, "alice")

        let now = Date()
        let new = file.issue(name: "alice", role: .operator, graceSeconds: 60, now: now)
        try file.save(to: path)
        XCTAssertNotNil(verifier.verifyOperator(token: old, now: now.addingTimeInterval(30)), "the old token stopped before its grace ended")
        XCTAssertNil(verifier.verifyOperator(token: old, now: now.addingTimeInterval(61)), "the old token outlived its grace")
        XCTAssertNotNil(verifier.verifyOperator(token: new, now: now.addingTimeInterval(61)))

        // Issued again without grace: every earlier token of the name stops at once.
        let newest = file.issue(name: "alice", role: .operator, graceSeconds: nil)
        try file.save(to: path)
        XCTAssertNil(verifier.verifyOperator(token: new))
        XCTAssertNotNil(verifier.verifyOperator(token: newest))
    }

    func testAgentTokensAreBoundToTheirHostAndRolesDoNotMix() throws {
        var file = TokenHashFile()
        let agent = file.issue(name: "node-1", role: .agent, graceSeconds: nil)
        let service = file.issue(name: "backup", role: .service, graceSeconds: nil)
        try file.save(to: path)
        let verifier = TokenVerifier(path: path, logger: Logger(label: "test"))
        XCTAssertTrue(verifier.verifyAgent(host: "node-1", token: agent))
        XCTAssertFalse(verifier.verifyAgent(host: "node-2", token: agent))
        XCTAssertNil(verifier.verifyOperator(token: agent))
        XCTAssertFalse(verifier.verifyAgent(host: "backup", token: service))
        XCTAssertEqual(verifier.verifyOperator(token: service)?.role, .service)
    }

    func testMissingOrBrokenFileRefusesOrKeepsWhatWasRead() throws {
        let verifier = TokenVerifier(path: path, logger: Logger(label: "test"))
        XCTAssertNil(verifier.verifyOperator(token: "anything"))
        var file = TokenHashFile()
        let token = file.issue(name: "alice", role: .operator, graceSeconds: nil)
        try file.save(to: path)
        XCTAssertNotNil(verifier.verifyOperator(token: token))
        try Data("{half".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertNotNil(verifier.verifyOperator(token: token), "a half-written file locked everyone out")
    }

    func testRevoke() throws {
        var file = TokenHashFile()
        _ = file.issue(name: "node-1", role: .agent, graceSeconds: nil)
        XCTAssertTrue(file.revoke(name: "node-1", role: .agent))
        XCTAssertFalse(file.revoke(name: "node-1", role: .agent))
        XCTAssertTrue(file.tokens.isEmpty)
    }

    func testTokenCommandPrintsTheTokenOnceAndStoresItsHash() throws {
        let issued = try CommandRunner.run(TestCluster.binaryPath, ["token", "issue", "--role", "agent", "--name", "node-1", "--file", path])
        XCTAssertEqual(issued.status, 0, issued.output)
        let token = issued.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(token.hasPrefix("dct_"), issued.output)
        let stored = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertFalse(stored.contains(token))
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        XCTAssertEqual(mode & 0o777, 0o600)
        XCTAssertTrue(TokenVerifier(path: path, logger: Logger(label: "test")).verifyAgent(host: "node-1", token: token))

        let listed = try CommandRunner.run(TestCluster.binaryPath, ["token", "list", "--file", path])
        XCTAssertEqual(listed.standardOutput, "agent\tnode-1\tcurrent\n")
        let badName = try CommandRunner.run(TestCluster.binaryPath, ["token", "issue", "--role", "agent", "--name", "a b", "--file", path])
        XCTAssertNotEqual(badName.status, 0)
    }
}
