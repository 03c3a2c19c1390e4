#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `body` (which spawns a child process) with no signal blocked on this thread.
///
/// A child inherits the spawning thread's signal mask, and Swift concurrency and Dispatch threads
/// block almost every signal: a child spawned from one would ignore SIGTERM (and `nc -q1`, which
/// relies on SIGALRM, would never quit).
func withSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
    var none = sigset_t()
    var saved = sigset_t()
    sigemptyset(&none)
    pthread_sigmask(SIG_SETMASK, &none, &saved)
    defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
    return try body()
}
