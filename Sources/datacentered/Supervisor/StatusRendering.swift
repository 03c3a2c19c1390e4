import Foundation
import Supervisor

/// The text of `status` and `connections`.
enum StatusRendering {
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func table(_ status: StatusReport) -> String {
        let uptime = Int(Date().timeIntervalSince(status.startedAt))
        var lines = [
            "DataCentered \(status.version)  supervisor pid \(status.masterPID)  started \(timestamp(status.startedAt))  up \(duration(uptime))",
            "load average: " + status.loadAverage.map { String(format: "%.2f", $0) }.joined(separator: " "),
            "processes: " + status.processesByRole.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
        ]
        let exits = status.exitsByRole.sorted { $0.key < $1.key }.map { role, statuses in
            "\(role): " + statuses.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        }
        lines.append("exits: " + (exits.isEmpty ? "none" : exits.joined(separator: "; ")))
        lines.append("")
        var rows = [["NAME", "ROLE", "PID", "STATE", "MEMORY", "CONNS", "IN", "OUT", "SEND-FAIL", "BYTES-IN/OUT", "HELD", "ERRORS", "RESTARTS", "STARTED", "LISTENING"]]
        for process in status.processes {
            let counters = process.statistics?.counters ?? [:]
            let isGateway = process.role == "gateway"
            func value(_ key: String) -> String { counters[key].map(String.init) ?? "-" }
            rows.append([
                process.name, process.role, process.pid.map(String.init) ?? "-", process.state,
                process.memoryBytes.map { String(format: "%.1fM", Double($0) / 1_048_576) } ?? "-",
                isGateway ? value("clients") : "-",
                isGateway ? value("messagesIn") : value("eventsHandled"),
                isGateway ? value("messagesOut") : "-",
                isGateway ? value("sendFailures") : "-",
                isGateway ? "\(bytes(counters["bytesIn"]))/\(bytes(counters["bytesOut"]))" : "-",
                isGateway ? "\(value("eventsWaitingForWorker"))+\(value("eventsUnacknowledged"))" : "-",
                isGateway ? "-" : value("handlerErrors"),
                String(process.restarts), process.startedAt.map(timestamp) ?? "-", process.listening,
            ])
        }
        return (lines + align(rows)).joined(separator: "\n")
    }

    static func table(_ connections: [ConnectionInfo]) -> String {
        var rows = [["CLIENT", "REMOTE", "GATEWAY", "UID", "GROUPS", "IDLE"]]
        for connection in connections {
            rows.append([
                connection.clientID, connection.remoteAddress, connection.gateway, connection.uid ?? "-",
                connection.groups.isEmpty ? "-" : connection.groups.joined(separator: ","), connection.idleSeconds.map { duration(Int($0)) } ?? "-",
            ])
        }
        return (align(rows) + ["\(connections.count) connection\(connections.count == 1 ? "" : "s")"]).joined(separator: "\n")
    }

    private static func align(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
    }

    private static func bytes(_ count: Int?) -> String {
        guard let count else { return "-" }
        return count >= 1_048_576 ? String(format: "%.1fM", Double(count) / 1_048_576) : count >= 1024 ? "\(count / 1024)K" : "\(count)"
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false))
    }

    private static func duration(_ seconds: Int) -> String {
        seconds >= 3600 ? "\(seconds / 3600)h\(seconds % 3600 / 60)m" : seconds >= 60 ? "\(seconds / 60)m\(seconds % 60)s" : "\(seconds)s"
    }
}
