#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Size and free space of one mounted filesystem.
public struct DiskSpace: Sendable, Equatable {
    public var mount: String
    public var total: UInt64
    /// What an unprivileged user may still write (`df`'s "Avail"), not counting the root reserve.
    public var free: UInt64

    /// Asks the kernel (`statvfs`) about the filesystem mounted at `path`; nil when it cannot
    /// answer (a hung network mount, a path gone since `/proc/mounts` was read).
    public static func of(_ path: String) -> DiskSpace? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        let unit = UInt64(stats.f_frsize)
        return DiskSpace(mount: path, total: UInt64(stats.f_blocks) * unit, free: UInt64(stats.f_bavail) * unit)
    }
}
