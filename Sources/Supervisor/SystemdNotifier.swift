import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// The master's side of systemd's readiness protocol (`Type=notify`, sd_notify(3)): one datagram of
/// newline-separated `KEY=value` assignments per state change, sent to the unix datagram socket named
/// by `$NOTIFY_SOCKET` (a path, or an abstract name when it starts with `@`).
///
/// It sends only what follows from the last state sent: `ready` at start or after `reloading`,
/// `reloading` only when ready (not during a start, a stop or another reload), `stopping` once.
public final class SystemdNotifier: Sendable {
    /// What the master tells systemd.
    public enum State: Sendable {
        /// Every child is up (and a reload is over): `READY=1` with the master's pid, which is how a
        /// daemonized master (`start -d`, not the process systemd started) becomes the service's main process.
        case ready
        /// A reload starts; systemd waits for the next `ready`.
        case reloading
        /// A graceful stop starts.
        case stopping
    }

    /// `$NOTIFY_SOCKET` as given.
    public let socketName: String
    private let lastSent = NIOLockedValueBox<State?>(nil)

    public init(socketName: String) {
        self.socketName = socketName
    }

    /// The notifier for `$NOTIFY_SOCKET`, or nil when it is not set (not run by systemd as `Type=notify`).
    /// Takes the variable out of the environment, so that no child the master starts notifies in its name.
    public static func fromEnvironment() -> SystemdNotifier? {
        guard let value = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }), !value.isEmpty else { return nil }
        unsetenv("NOTIFY_SOCKET")
        return SystemdNotifier(socketName: value)
    }

    /// The datagram for `state`.
    static func message(_ state: State) -> String {
        switch state {
        case .ready: return "READY=1\nMAINPID=\(getpid())"
        case .reloading:
            // systemd 253+ asks for the time the reload started along with it.
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            return "RELOADING=1\nMONOTONIC_USEC=\(Int(now.tv_sec) * 1_000_000 + Int(now.tv_nsec) / 1000)"
        case .stopping: return "STOPPING=1"
        }
    }

    /// Sends `state` if it follows from the last one sent; false when it does not.
    @discardableResult
    public func notify(_ state: State) throws -> Bool {
        let follows = lastSent.withLockedValue { last in
            switch (last, state) {
            case (nil, .ready), (.reloading, .ready), (.ready, .reloading), (nil, .stopping), (.ready, .stopping), (.reloading, .stopping):
                last = state
                return true
            default:
                return false
            }
        }
        if follows { try send(Self.message(state)) }
        return follows
    }

    private func send(_ message: String) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(socketName.utf8)
        let isAbstract = name.first == UInt8(ascii: "@")
        // An abstract name starts with a zero byte and is exactly as long as given: no terminator.
        if isAbstract { name[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard name.count < capacity, isAbstract || name.first == UInt8(ascii: "/") else {
            throw SupervisorError.notifyFailed(socket: socketName, reason: "not an absolute path or @name shorter than \(capacity) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + name.count + (isAbstract ? 0 : 1)

        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SupervisorError.notifyFailed(socket: socketName, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        let sent = message.utf8CString.withUnsafeBufferPointer { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, bytes.baseAddress, bytes.count - 1, Int32(MSG_NOSIGNAL), $0, socklen_t(length))
                }
            }
        }
        guard sent >= 0 else { throw SupervisorError.notifyFailed(socket: socketName, reason: String(cString: strerror(errno))) }
    }
}
