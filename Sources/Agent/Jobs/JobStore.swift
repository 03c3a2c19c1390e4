import DataCenterProtocol
import Foundation

/// Job records, one JSON file per job under `<state>/jobs/`. Every write replaces the file
/// atomically (write then rename), so a crash leaves the old record or the new one, never half.
struct JobStore: Sendable {
    let directory: String

    init(stateDirectory: String) throws {
        directory = stateDirectory + "/jobs"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Job ids become file names: letters, digits and `._:-`, not starting with a dot, at most 128 bytes.
    static func isValidJobID(_ id: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-".utf8)
        return (1...128).contains(id.utf8.count) && !id.hasPrefix(".") && id.utf8.allSatisfy(allowed.contains)
    }

    func load(_ id: String) -> AgentJobRecord? {
        guard let data = FileManager.default.contents(atPath: path(id)) else { return nil }
        return try? Self.decoder.decode(AgentJobRecord.self, from: data)
    }

    func save(_ record: AgentJobRecord) throws {
        try Self.encoder.encode(record).write(to: URL(fileURLWithPath: path(record.id)), options: .atomic)
    }

    /// Every record on disk.
    func all() -> [AgentJobRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") }.compactMap { load(String($0.dropLast(5))) }
    }

    /// Forgets finished jobs that ended before `cutoff`.
    func prune(endedBefore cutoff: Date) {
        for record in all() where record.state.isFinal && (record.endedAt ?? record.startedAt) < cutoff {
            try? FileManager.default.removeItem(atPath: path(record.id))
        }
    }

    private func path(_ id: String) -> String { "\(directory)/\(id).json" }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
