import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// Where the supervisor and every child log: the supervisor's standard error, one whole line at a
/// time (children's lines never interleave mid-line). A daemon points standard output and error at
/// a file in the log directory; ``reopen()`` (on SIGHUP) opens that path again, so a file that
/// logrotate moved away is replaced by a new one.
public final class OutputLog: Sendable {
    private let lock = NIOLock()
    /// The file standard error goes to; nil: the terminal (or whatever started the supervisor).
    public let filePath: String?

    /// - Parameter filePath: the log file of a daemon; nil keeps standard error as it is.
    public init(filePath: String?) throws {
        self.filePath = filePath
        try reopen()
    }

    /// Opens ``filePath`` again (appending) and points standard output and error at it.
    public func reopen() throws {
        guard let filePath else { return }
        try lock.withLock {
            let descriptor = open(filePath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard descriptor >= 0 else {
                throw SupervisorError.runDirectory(path: filePath, reason: String(cString: strerror(errno)))
            }
            dup2(descriptor, STDOUT_FILENO)
            dup2(descriptor, STDERR_FILENO)
            close(descriptor)
        }
    }

    /// Writes `line` and a newline to standard error.
    func write(line: some Collection<UInt8>) {
        var bytes = Array(line)
        bytes.append(UInt8(ascii: "\n"))
        lock.withLock {
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { return }
                    offset += written
                }
            }
        }
    }
}
