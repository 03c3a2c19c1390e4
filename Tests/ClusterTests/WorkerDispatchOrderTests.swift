import ClusterTesting
import Foundation
import Wire
import XCTest

/// A worker runs a client's events one at a time, in arrival order, whether its handler ends without
/// suspending (run inside the read that brought the event) or waits on a query in between (later
/// events queue behind it).
final class WorkerDispatchOrderTests: XCTestCase {
    func testRepliesKeepTheOrderOfTheCallsWhenSomeHandlersSuspend() async throws {
        let cluster = try TestCluster()
        defer { cluster.stopAll() }
        let gateway = try cluster.startGateway()
        let worker = try cluster.startWorker(name: "probe-1", handler: "probe")
        try cluster.waitUntilLinked(worker, to: gateway)
        let client = try await WebSocketTestClient.connect(port: gateway.publicPort)
        let calls = 60
        // Sent back to back, so most arrive while an earlier one waits for its answer from the gateway.
        for id in 1...calls {
            let call = id.isMultiple(of: 3) ? "isOnline" : "whoami"
            try await client.send(#"{"id":\#(id),"call":"\#(call)"}"#)
        }
        var replies: [Int] = []
        for _ in 1...calls {
            let reply = try JSONDecoder().decode(JSONValue.self, from: Data(try await client.receiveText(timeout: .seconds(10)).utf8))
            XCTAssertNil(reply["error"], "\(reply)")
            replies.append(reply["id"]?.intValue ?? -1)
        }
        XCTAssertEqual(replies, Array(1...calls))
        await client.abort()
    }
}
