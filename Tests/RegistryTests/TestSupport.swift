import XCTest

/// Polls `condition` every 100 ms until it holds or `timeout` passes; returns whether it held.
func eventually(
    timeout: Duration,
    interval: Duration = .milliseconds(100),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
