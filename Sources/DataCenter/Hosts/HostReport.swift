import DataCenterProtocol
import Foundation

/// One agent report: the section of its host's state that it replaces, read from a `report.*` event
/// or from the section's memcached item.
enum HostReport: Sendable, Hashable {
    case info(HostInfoReport)
    case cpu(CPUReport)
    case bandwidth(BandwidthReport)
    case vps(VPSReport)

    /// The parts of a host's state that reports replace, each kept in its own memcached item.
    enum Section: String, Sendable, CaseIterable {
        case info, cpu, bandwidth, vps
    }

    /// The report that `message` (a `report.*` event) carries; nil for an event that is not a report.
    /// - Throws: `bad_request` when the report's data does not read.
    init?(event name: String, of message: InboundMessage) throws(ProtocolError) {
        switch EventName(rawValue: name) {
        case .reportHostInfo?: self = .info(try message.payload(HostInfoReport.self))
        case .reportCPU?: self = .cpu(try message.payload(CPUReport.self))
        case .reportBandwidth?: self = .bandwidth(try message.payload(BandwidthReport.self))
        case .reportVPS?: self = .vps(try message.payload(VPSReport.self))
        default: return nil
        }
    }

    /// A report of `section` as `encoded()` wrote it.
    init(_ section: Section, decoding bytes: some Collection<UInt8>) throws {
        let decoder = JSONDecoder()
        let data = Data(bytes)
        switch section {
        case .info: self = .info(try decoder.decode(HostInfoReport.self, from: data))
        case .cpu: self = .cpu(try decoder.decode(CPUReport.self, from: data))
        case .bandwidth: self = .bandwidth(try decoder.decode(BandwidthReport.self, from: data))
        case .vps: self = .vps(try decoder.decode(VPSReport.self, from: data))
        }
    }

    var section: Section {
        switch self {
        case .info: .info
        case .cpu: .cpu
        case .bandwidth: .bandwidth
        case .vps: .vps
        }
    }

    /// The report as JSON with sorted keys, so equal reports give equal bytes in every process.
    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        switch self {
        case .info(let report): return Array(try encoder.encode(report))
        case .cpu(let report): return Array(try encoder.encode(report))
        case .bandwidth(let report): return Array(try encoder.encode(report))
        case .vps(let report): return Array(try encoder.encode(report))
        }
    }

    /// The data of the `host.changed` that this report makes, built around the report's `encoded()`
    /// bytes rather than by encoding it again: the host, when it reported, and the report's fields.
    /// - Parameters:
    ///   - host: a valid host name (nothing in it needs escaping).
    ///   - time: when it reported, as `Timestamp.description` writes it.
    func changeJSON(host: String, at time: String, encoded: [UInt8]) -> [UInt8] {
        let head = Array(#"{"host":"\#(host)","lastReportAt":"\#(time)","#.utf8)
        switch self {
        case .vps:
            // A VPS report's fields are host.changed's own `vps` and `ipMap`.
            return head + encoded.dropFirst()
        case .info, .cpu, .bandwidth:
            return head + Array(#""\#(section.rawValue)":"#.utf8) + encoded + [UInt8(ascii: "}")]
        }
    }

    /// Puts the report into a host's state.
    func apply(to state: inout HostState) {
        switch self {
        case .info(let report): state.info = report
        case .cpu(let report): state.cpu = report
        case .bandwidth(let report): state.bandwidth = report
        case .vps(let report):
            state.vps = report.vps
            state.ipMap = report.ipMap
        }
    }
}
