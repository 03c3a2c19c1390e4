/// A mounted filesystem from `/proc/mounts`.
public struct Mount: Sendable, Equatable {
    public var device: String
    public var path: String
    public var type: String
}

/// The filesystems of `/proc/mounts` that hold data: block devices and network storage, once each.
public enum MountTable {
    /// Kernel and memory filesystems, whose free space says nothing about the host's disks.
    static let virtualTypes: Set<String> = [
        "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "cgroup", "cgroup2", "pstore", "bpf", "debugfs",
        "tracefs", "securityfs", "configfs", "fusectl", "mqueue", "hugetlbfs", "autofs", "binfmt_misc",
        "rpc_pipefs", "nsfs", "ramfs", "squashfs", "overlay", "efivarfs", "selinuxfs", "fuse.lxcfs",
        "devfs", "rootfs", "nfsd", "tracefs", "iso9660",
    ]

    /// Parses the text of `/proc/mounts`; a device mounted at several paths (bind mounts) is listed
    /// at its first path only, so its space is not counted twice.
    public static func realMounts(_ text: String) -> [Mount] {
        var seenDevices: Set<String> = []
        var mounts: [Mount] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3 else { continue }
            let mount = Mount(device: unescape(fields[0]), path: unescape(fields[1]), type: String(fields[2]))
            guard !virtualTypes.contains(mount.type), mount.device != "none" else { continue }
            guard seenDevices.insert(mount.device).inserted else { continue }
            mounts.append(mount)
        }
        return mounts
    }

    /// `/proc/mounts` writes space, tab, newline and backslash in paths as three-digit octal escapes.
    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
                let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
