import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP port that is free right now on `host` (an IPv4 address), never one this process handed out before.
///
/// Ports come from below the kernel's ephemeral range (`ip_local_port_range`), so that neither an outgoing
/// connection nor a listener bound to port 0 (a gateway's per-loop link ports) can take one between this
/// call and the bind of the process it is meant for; and each port is handed out once, so two calls in a
/// row never give the same port. The socket is closed before returning: another process that picks
/// ports the same way could still take it first.
public func freeTCPPort(host: String = "127.0.0.1") -> Int {
    let candidates = PortsOutsideTheEphemeralRange.current
    for _ in 0..<1_000 {
        let port = Int.random(in: candidates)
        guard handedOutPorts.withLock({ $0.insert(port).inserted }) else { continue }
        if bindsNow(host: host, port: port) != nil { return port }
    }
    // Nothing free below the range (or no room there): the kernel's own pick, still handed out once.
    while true {
        guard let port = bindsNow(host: host, port: 0) else { preconditionFailure("bind(\(host):0) failed: errno \(errno)") }
        if handedOutPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
}

private let handedOutPorts = Mutex(Set<Int>())

/// The ports from 10,000 up to the start of the kernel's ephemeral range.
private enum PortsOutsideTheEphemeralRange {
    static var current: ClosedRange<Int> {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let first = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32_768
        return 10_000...max(10_001, first - 1)
    }
}

/// Binds a socket to `host:port` (0: the kernel picks) and closes it; the port it was bound to, or nil when the bind failed.
private func bindsNow(host: String, port: Int) -> Int? {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    precondition(fd >= 0, "socket() failed: errno \(errno)")
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    precondition(inet_pton(AF_INET, host, &address.sin_addr) == 1, "not an IPv4 address: \(host)")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { return nil }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    precondition(named == 0, "getsockname failed: errno \(errno)")
    return Int(UInt16(bigEndian: address.sin_port))
}

/// True when something accepts a TCP connection on `host:port` (IPv4) right now.
func tcpPortAnswers(host: String, port: Int) -> Bool {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return connected == 0
}
