import DataCenterProtocol
import Foundation

/// How an agent's report event changes its host's state.
enum ReportApplication {
    /// The change that `message` (a `report.*` event) makes; nil for an event that is not a report.
    /// - Throws: `bad_request` when the report's data does not read.
    static func change(for name: String, of message: InboundMessage, at now: Timestamp) throws(ProtocolError)
        -> (@Sendable (inout HostState) -> Void)?
    {
        switch EventName(rawValue: name) {
        case .reportHostInfo?:
            let report = try message.payload(HostInfoReport.self)
            return { $0.info = report; $0.online = true; $0.lastReportAt = now }
        case .reportCPU?:
            let report = try message.payload(CPUReport.self)
            return { $0.cpu = report; $0.online = true; $0.lastReportAt = now }
        case .reportBandwidth?:
            let report = try message.payload(BandwidthReport.self)
            return { $0.bandwidth = report; $0.online = true; $0.lastReportAt = now }
        case .reportVPS?:
            let report = try message.payload(VPSReport.self)
            return { $0.vps = report.vps; $0.ipMap = report.ipMap; $0.online = true; $0.lastReportAt = now }
        default:
            return nil
        }
    }
}
