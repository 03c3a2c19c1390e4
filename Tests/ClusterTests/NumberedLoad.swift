import ClusterTesting
import Foundation
import XCTest

/// Clients of the echo demo sending numbered messages at a steady rate while something happens to
/// the cluster half-way; checks that every client got every answer, in order, and stayed connected.
struct NumberedLoad {
    var messagesPerClient = 60
    var interval = Duration.milliseconds(50)

    struct Outcome {
        /// Answers that came twice (the handler running at a kill can answer before its acknowledgement left).
        var duplicates: Int
        /// The longest any client waited between two answers.
        var longestWait: Duration
    }

    /// Runs the load on `clients` (client `i` sends `"i n"`), calls `disruption` half-way, and asserts
    /// that no answer is lost, reordered, or sent to another client, and no client disconnected.
    func run(_ clients: [WebSocketTestClient], halfway disruption: @escaping @Sendable () async throws -> Void) async throws -> Outcome {
        let (messagesPerClient, interval) = (self.messagesPerClient, self.interval)
        let answers = try await withThrowingTaskGroup(of: (Int, [Int], Duration).self) { tasks in
            for (index, client) in clients.enumerated() {
                tasks.addTask {
                    for sequence in 0..<messagesPerClient {
                        try await client.send("\(index) \(sequence)")
                        try await Task.sleep(for: interval)
                    }
                    return (index, [], .zero)
                }
                tasks.addTask {
                    var received: [Int] = []
                    var longestWait = Duration.zero
                    var last = ContinuousClock.now
                    while received.last != messagesPerClient - 1 {
                        let text = try await client.receiveText(timeout: .seconds(15))
                        let now = ContinuousClock.now
                        longestWait = max(longestWait, now - last)
                        last = now
                        let parts = text.split(separator: " ")
                        XCTAssertEqual(parts.first.map(String.init), "\(index)", "client \(index) got another client's answer")
                        received.append(Int(parts.last!)!)
                    }
                    return (index, received, longestWait)
                }
            }
            tasks.addTask {
                try await Task.sleep(for: interval * messagesPerClient / 2)
                try await disruption()
                return (-1, [], .zero)
            }
            var answers: [Int: ([Int], Duration)] = [:]
            for try await (index, received, wait) in tasks where index >= 0 && !received.isEmpty {
                answers[index] = (received, wait)
            }
            return answers
        }

        var outcome = Outcome(duplicates: 0, longestWait: .zero)
        for index in clients.indices {
            let (received, wait) = answers[index] ?? ([], .zero)
            outcome.longestWait = max(outcome.longestWait, wait)
            var distinct: [Int] = []
            for sequence in received {
                if sequence == distinct.last { outcome.duplicates += 1 } else { distinct.append(sequence) }
            }
            XCTAssertEqual(distinct, Array(0..<messagesPerClient), "client \(index) answers out of order or missing: \(received)")
            XCTAssertTrue(clients[index].isOpen, "client \(index) was disconnected")
        }
        return outcome
    }
}
