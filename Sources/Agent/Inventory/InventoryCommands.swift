import Foundation

/// Paths of the inventory tools. Nil asks the `PATH` for the standard name; a tool that is not
/// installed is skipped, so a host with none reports an empty list.
public struct InventoryCommands: Sendable, Equatable, Codable {
    public var virsh: String?
    public var lxcLs: String?
    /// Names a running container's host-side interfaces (for its per-VPS bandwidth).
    public var lxcInfo: String?
    public var vzlist: String?
    public var prlctl: String?
    /// When false, only the paths given here are used and nothing is looked up on the `PATH`
    /// (tests, and hosts where a tool is installed but must not be asked).
    public var searchPath: Bool

    public init(
        virsh: String? = nil, lxcLs: String? = nil, lxcInfo: String? = nil, vzlist: String? = nil, prlctl: String? = nil, searchPath: Bool = true
    ) {
        self.virsh = virsh
        self.lxcLs = lxcLs
        self.lxcInfo = lxcInfo
        self.vzlist = vzlist
        self.prlctl = prlctl
        self.searchPath = searchPath
    }

    /// The executable for `name`: the configured path, else (when allowed) the first one on the `PATH`.
    func resolve(_ configured: String?, name: String) -> String? {
        if let configured { return FileManager.default.isExecutableFile(atPath: configured) ? configured : nil }
        guard searchPath else { return nil }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
