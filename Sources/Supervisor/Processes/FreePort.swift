#if canImport(Glibc)
import Glibc
#endif

/// A TCP port nobody listens on now, on `host`: the kernel picks one for a socket bound to port 0.
enum FreePort {
    static func find(host: String) throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw SupervisorError.spawnFailed(command: "socket", reason: String(cString: strerror(errno))) }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw SupervisorError.spawnFailed(command: "metrics endpoint", reason: "supervisor.childMetricsHost \(host) is not an IPv4 address")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw SupervisorError.spawnFailed(command: "metrics endpoint", reason: String(cString: strerror(errno))) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
