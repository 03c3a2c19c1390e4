import NIOConcurrencyHelpers

/// What this worker last stored of each host's report sections, as a hash of the report's bytes, so a
/// report that differs from it is written without first reading what memcached holds.
///
/// Only a hint: a report that this worker has not seen for its host (after the worker's start) or that
/// looks unchanged is compared with memcached itself, since another worker may have stored one since.
final class ReportFingerprints: Sendable {
    private struct Key: Hashable {
        let host: String
        let section: HostReport.Section
    }

    private let fingerprints = NIOLockedValueBox([Key: Int]())

    /// True when the last report of `section` this worker stored for `host` hashes as `report` does.
    /// nil when it stored none.
    func matches(_ report: [UInt8], _ section: HostReport.Section, of host: String) -> Bool? {
        let fingerprint = Self.fingerprint(report)
        return fingerprints.withLockedValue { $0[Key(host: host, section: section)] }.map { $0 == fingerprint }
    }

    func record(_ report: [UInt8], _ section: HostReport.Section, of host: String) {
        let fingerprint = Self.fingerprint(report)
        fingerprints.withLockedValue { $0[Key(host: host, section: section)] = fingerprint }
    }

    private static func fingerprint(_ bytes: [UInt8]) -> Int {
        var hasher = Hasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }
}
