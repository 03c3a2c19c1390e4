import DataCenterProtocol
import Foundation
import Registry

/// The single memcached item that listed the unfinished jobs before they were spread over
/// ``JobStore/active``'s items (its key is their prefix, `dc.jobs.active`). The sweep moves what it
/// finds there into the spread items, so jobs left unfinished across an upgrade are still swept.
struct LegacyActiveJobs: Sendable {
    let data: GlobalData

    private var key: String { JobStore.active.prefix }

    /// Moves the unfinished jobs of the old item into the spread items, then empties it.
    /// - Returns: the ids moved; none (after one get) once the old item is gone.
    func migrate() async throws -> [String] {
        guard let read = try await data.gets(key) else { return [] }
        let ids = try JSONDecoder().decode([String].self, from: Data(read.value))
        // Emptied already: it expires on its own.
        guard !ids.isEmpty else { return [] }
        let unfinished = try await JobStore(data: data).records(ids).filter { !$0.state.isFinal }.map(\.id)
        for (item, moved) in JobStore.active.grouped(unfinished) {
            _ = try await data.update(item, as: [String].self) { present in
                let present = present ?? []
                return present + moved.filter { !present.contains($0) }
            }
        }
        // Emptied only if nobody wrote it since the read (a worker of the old version, during a rolling
        // upgrade), else the next sweep moves it again. Not deleted outright: a delete could drop an id
        // such a worker adds between the two; an empty item that expires cannot.
        _ = try await data.cas(key, Array("[]".utf8), cas: read.cas, expiration: 1)
        return unfinished
    }
}
