/// Runs `body`, cancelling it and throwing when it has not finished within `limit`: a bound for a
/// test's wait on something that would otherwise hang (a stream that never ends).
public func withTimeout<Value: Sendable>(
    _ limit: Duration, waitingFor what: String, _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    try await withThrowingTaskGroup(of: Value?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let value = try await group.next() ?? nil else {
            throw TimeLimitExceeded(description: "\(what) took longer than \(limit)")
        }
        return value
    }
}

/// What ``withTimeout(_:waitingFor:_:)`` throws.
public struct TimeLimitExceeded: Error, CustomStringConvertible {
    public let description: String
}
