import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The summed counters of the server processes under benchmark at one instant: CPU clock ticks
/// (utime + stime, /proc/PID/stat), context switches of every thread (voluntary + involuntary,
/// /proc/PID/task/*/status) and, when the allocation counter (Deploy/bench-malloc-count.c) writes
/// files for them, their heap counts. A process that is gone counts 0.
struct ServerCounters: Equatable {
    var ticks: UInt64 = 0
    var switches: UInt64 = 0
    /// nil when no process has an allocation counter file.
    var heap: HeapCounts?

    /// The four used words of each slot of Deploy/bench-malloc-count.c's per-pid file, summed over
    /// its slots.
    struct HeapCounts: Equatable {
        var allocations: UInt64 = 0
        var frees: UInt64 = 0
        var bytesAllocated: UInt64 = 0
        var bytesFreed: UInt64 = 0

        static func + (lhs: HeapCounts, rhs: HeapCounts) -> HeapCounts {
            HeapCounts(
                allocations: lhs.allocations + rhs.allocations, frees: lhs.frees + rhs.frees,
                bytesAllocated: lhs.bytesAllocated + rhs.bytesAllocated, bytesFreed: lhs.bytesFreed + rhs.bytesFreed
            )
        }
    }

    /// Reads and sums the counters of `pids`; `mallocCountDirectory` is MALLOC_COUNT_DIR of the servers.
    static func read(pids: [Int32], mallocCountDirectory: String?) -> ServerCounters {
        var sum = ServerCounters()
        for pid in pids {
            guard let ticks = cpuTicks(pid: pid) else { continue }
            sum.ticks += ticks
            sum.switches += contextSwitches(pid: pid)
            if let mallocCountDirectory, let heap = heapCounts(file: "\(mallocCountDirectory)/\(pid)") {
                sum.heap = (sum.heap ?? HeapCounts()) + heap
            }
        }
        return sum
    }

    /// The figures of the window from `start` to `self`, as the summary's `server_*` fields (the
    /// names Deploy/bench.sh's results and the README use): CPU seconds, context switches, and with
    /// the allocation counter, allocations and the growth of the live heap.
    func windowFields(since start: ServerCounters) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [
            ("server_cpu_s", .double(Double(ticks &- start.ticks) / Double(Self.ticksPerSecond))),
            ("server_context_switches", .int(Int(switches) - Int(start.switches))),
        ]
        if let heap, let before = start.heap {
            fields.append(("server_allocations", .int(Int(heap.allocations) - Int(before.allocations))))
            let grown = (Int(heap.bytesAllocated) - Int(before.bytesAllocated)) - (Int(heap.bytesFreed) - Int(before.bytesFreed))
            fields.append(("server_heap_bytes", .int(grown)))
        }
        return fields
    }

    /// One sample as a JSON object: `ticks`, `switches`, `heap` ([allocations, frees, bytes
    /// allocated, bytes freed] or null), what Deploy/bench.sh's `sample` reads.
    var json: JSONValue {
        let heapValue: JSONValue = heap.map {
            .array([.int(Int($0.allocations)), .int(Int($0.frees)), .int(Int($0.bytesAllocated)), .int(Int($0.bytesFreed))])
        } ?? .null
        return .fields([("ticks", .int(Int(ticks))), ("switches", .int(Int(switches))), ("heap", heapValue)])
    }

    static let ticksPerSecond = max(1, sysconf(Int32(_SC_CLK_TCK)))

    /// utime + stime, the 14th and 15th fields of /proc/PID/stat (counted after the command name,
    /// which may itself hold spaces and parentheses); nil when the process is gone.
    static func cpuTicks(pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.range(of: ") ", options: .backwards) else { return nil }
        let fields = stat[close.upperBound...].split(separator: " ")
        guard fields.count > 12, let utime = UInt64(fields[11]), let stime = UInt64(fields[12]) else { return nil }
        return utime + stime
    }

    /// Voluntary + involuntary context switches summed over the process's threads (a thread that
    /// ends while being read counts 0).
    static func contextSwitches(pid: Int32) -> UInt64 {
        let tasks = "/proc/\(pid)/task"
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: tasks) else { return 0 }
        var switches: UInt64 = 0
        for thread in threads {
            guard let status = try? String(contentsOfFile: "\(tasks)/\(thread)/status", encoding: .utf8) else { continue }
            for line in status.split(separator: "\n")
            where line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") {
                switches += line.split(whereSeparator: \.isWhitespace).last.flatMap { UInt64($0) } ?? 0
            }
        }
        return switches
    }

    /// The allocation counter's file of one process: 64-byte slots of little-endian 64-bit words.
    static func heapCounts(file: String) -> HeapCounts? {
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        var counts = HeapCounts()
        data.withUnsafeBytes { bytes in
            func word(_ offset: Int) -> UInt64 {
                offset + 8 <= bytes.count ? UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) : 0
            }
            for slot in stride(from: 0, to: bytes.count, by: 64) {
                counts.allocations += word(slot)
                counts.frees += word(slot + 8)
                counts.bytesAllocated += word(slot + 16)
                counts.bytesFreed += word(slot + 24)
            }
        }
        return counts
    }
}
