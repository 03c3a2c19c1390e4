import ClusterTesting
import Foundation
import Wire
import XCTest

/// The probe handler takes calls from any client: none can crash its worker or stall it for long.
final class ProbeBoundsTests: XCTestCase {
    private var cluster: TestCluster!

    override func tearDown() async throws {
        cluster?.stopAll()
    }

    func testOutOfRangeTimersSleepsAndRepeatsAreRefusedAndTheWorkerGoesOn() async throws {
        cluster = try TestCluster()
        let gateway = try cluster.startGateway()
        let worker = try cluster.startWorker(handler: "probe")
        try cluster.waitUntilLinked(worker, to: gateway)
        let client = try await ProbeClient.connect(port: gateway.publicPort)
        let refused: [(String, [String: JSONValue], String)] = [
            // A zero-delay timer used to trip the timer's precondition and kill the worker.
            ("timer", ["afterMilliseconds": 0, "text": "t"], "afterMilliseconds must be in 1...60000"),
            ("timer", ["afterMilliseconds": .integer(Int.max), "text": "t"], "afterMilliseconds must be in 1...60000"),
            // The worker handles one event at a time: a long sleep would stall every client's events.
            ("sleep", ["milliseconds": 3_600_000], "milliseconds must be in 0...2000"),
            ("sleep", ["milliseconds": -1], "milliseconds must be in 0...2000"),
            ("sendRepeated", ["text": "x", "times": .integer(Int.max / 2)], "sendRepeated makes at most"),
            ("sendRepeated", ["text": "xx", "times": .integer(Int.max)], "sendRepeated makes at most"),
        ]
        for (call, arguments, expected) in refused {
            do {
                try await client.call(call, arguments)
                XCTFail("\(call) \(arguments) was carried out")
            } catch let error as ProbeClient.CallError {
                XCTAssertTrue(error.description.contains(expected), "\(call): \(error)")
            }
        }
        let whoami = try await client.call("whoami")
        XCTAssertEqual(whoami["redelivered"], false)
        XCTAssertTrue(worker.isRunning)
    }
}
