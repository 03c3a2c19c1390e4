import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

@testable import LoadGen

/// ServerCounters against a real child process: a shell that waits on its stdin, burns CPU for a
/// bounded loop when told to, and carries Deploy/bench-malloc-count.c (compiled here) like the
/// servers under benchmark.
final class ServerCountersTests: XCTestCase {
    func testCountsAChildProcessesTicksSwitchesAndAllocationsAndNothingOnceItIsGone() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("server-counters-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let counter = directory.appendingPathComponent("bench-malloc-count.so").path
        try Self.compileMallocCounter(to: counter)

        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "read go; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo burnt; read stop"]
        child.environment = ["LD_PRELOAD": counter, "MALLOC_COUNT_DIR": directory.path, "PATH": "/usr/bin:/bin"]
        let input = Pipe(), output = Pipe()
        child.standardInput = input
        child.standardOutput = output
        try child.run()
        defer {
            if child.isRunning { child.terminate() }
            child.waitUntilExit()
        }
        let pid = child.processIdentifier
        // The counter's file appears when the child's first allocation maps it.
        let deadline = Date().addingTimeInterval(15)
        while ServerCounters.read(pids: [pid], mallocCountDirectory: directory.path).heap == nil, Date() < deadline {
            usleep(10_000)
        }

        let before = ServerCounters.read(pids: [pid], mallocCountDirectory: directory.path)
        input.fileHandleForWriting.write(Data("go\n".utf8))
        XCTAssertEqual(try Self.readLine(output.fileHandleForReading, timeout: 60), "burnt")
        let after = ServerCounters.read(pids: [pid], mallocCountDirectory: directory.path)

        XCTAssertGreaterThanOrEqual(after.ticks - before.ticks, 3, "100,000 shell loop turns take more than 30 ms of CPU")
        XCTAssertGreaterThanOrEqual(after.switches - before.switches, 1, "the child slept on its stdin and woke")
        let heap = try XCTUnwrap(after.heap)
        XCTAssertGreaterThan(heap.allocations, 0)
        XCTAssertGreaterThan(heap.bytesAllocated, 0)
        let fields = Dictionary(uniqueKeysWithValues: after.windowFields(since: before).map { ($0.0, $0.1.encoded) })
        XCTAssertGreaterThanOrEqual(Double(fields["server_cpu_s"] ?? "") ?? 0, 0.03)
        XCTAssertNotNil(fields["server_allocations"])
        XCTAssertNotNil(fields["server_heap_bytes"])

        input.fileHandleForWriting.write(Data("stop\n".utf8))
        child.waitUntilExit()
        XCTAssertEqual(ServerCounters.read(pids: [pid], mallocCountDirectory: directory.path), ServerCounters())
        XCTAssertEqual(ServerCounters.read(pids: [pid], mallocCountDirectory: directory.path).json.encoded,
                       #"{"ticks":0,"switches":0,"heap":null}"#)
    }

    func testAProcessIdThatIsNotANumberIsRefused() throws {
        XCTAssertThrowsError(try ServerCounterOptions.parse(["--server-pids", "12,x"]))
        XCTAssertEqual(try ServerCounterOptions.parse(["--server-pids", "12,34"]).pids(), [12, 34])
    }

    // MARK: helpers

    private static func compileMallocCounter(to path: String) throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Deploy/bench-malloc-count.c").path
        let gcc = Process()
        gcc.executableURL = URL(fileURLWithPath: "/usr/bin/gcc")
        gcc.arguments = ["-O2", "-shared", "-fPIC", "-o", path, source]
        try gcc.run()
        gcc.waitUntilExit()
        XCTAssertEqual(gcc.terminationStatus, 0, "gcc could not compile \(source)")
    }

    /// One line of the child's output, waiting at most `timeout` seconds.
    private static func readLine(_ handle: FileHandle, timeout: TimeInterval) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var seen = ""
        while Date() < deadline {
            var poller = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if let newline = seen.firstIndex(of: "\n") { return String(seen[..<newline]) }
        }
        throw NSError(domain: "ServerCountersTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "no line in \(timeout) s: \(seen)"])
    }
}
