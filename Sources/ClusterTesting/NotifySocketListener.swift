import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failure of the test's end of the systemd notification socket.
public struct NotifySocketError: Error, CustomStringConvertible {
    public var description: String
}

/// systemd's end of the protocol: a unix datagram socket bound to a path or, for `@name`, to an
/// abstract name of exactly that length.
public final class NotifySocketListener: @unchecked Sendable {
    /// What `$NOTIFY_SOCKET` is set to.
    public let name: String
    private var descriptor: CInt

    /// Binds `name`: a path, or an abstract name when it starts with `@`.
    public init(name: String) throws {
        self.name = name
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw NotifySocketError(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes: [UInt8] = name.hasPrefix("@") ? [0] + Array(name.utf8.dropFirst()) : Array(name.utf8) + [0]
        withUnsafeMutablePointer(to: &address.sun_path) { path in
            path.withMemoryRebound(to: UInt8.self, capacity: bytes.count) { start in
                for (index, byte) in bytes.enumerated() { start[index] = byte }
            }
        }
        let length = socklen_t(2 + bytes.count - (name.hasPrefix("@") ? 0 : 1))
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0 else { throw NotifySocketError(description: "bind \(name): \(String(cString: strerror(errno)))") }
    }

    /// The next datagram, waiting at most `timeout`.
    public func receive(timeout: Duration = .seconds(60)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var poll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if Glibc.poll(&poll, 1, 100) > 0, let message = receiveIfAny() { return message }
        }
        throw NotifySocketError(description: "no datagram on \(name) within \(timeout)")
    }

    /// A datagram already waiting, or nil.
    public func receiveIfAny() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    public func close() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
        if !name.hasPrefix("@") { unlink(name) }
    }
}
