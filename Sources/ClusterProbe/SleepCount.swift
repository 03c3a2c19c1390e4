import Synchronization

/// The probe's `sleep` calls running at once in one worker process.
final class SleepCount: Sendable {
    private let running = Mutex(0)

    /// Counts one more running sleep; returns how many run now, this one included.
    func begin() -> Int {
        running.withLock { count in
            count += 1
            return count
        }
    }

    func end() {
        running.withLock { $0 -= 1 }
    }
}
