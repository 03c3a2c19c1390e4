import Foundation
import Histogram

#if canImport(Glibc)
import Glibc
#endif

/// Lines on stdout, flushed at once so that a script polling the log sees them.
enum Output {
    static func line(_ text: String) {
        print(text)
        fflush(nil)
    }
}

/// A JSON value with ordered object keys (so the summary reads in a fixed order).
enum JSONValue {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case object([JSONField])
    case array([JSONValue])
    case null

    /// An object from ordered (key, value) pairs.
    static func fields(_ pairs: [(String, JSONValue)]) -> JSONValue {
        .object(pairs.map { JSONField(key: $0.0, value: $0.1) })
    }

    var encoded: String {
        switch self {
        case .int(let value): return String(value)
        case .double(let value):
            guard value.isFinite else { return "null" }
            return String(format: "%.3f", value)
        case .bool(let value): return value ? "true" : "false"
        case .string(let value): return JSONValue.quote(value)
        case .array(let values): return "[" + values.map(\.encoded).joined(separator: ",") + "]"
        case .null: return "null"
        case .object(let fields):
            return "{" + fields.map { JSONValue.quote($0.key) + ":" + $0.value.encoded }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

struct JSONField {
    var key: String
    var value: JSONValue
}

/// Everything a run measured. The last line a run prints is `json`.
struct RunReport {
    var mode: String
    var options: CommonOptions
    var connect: ClientConnector.ConnectSummary
    var histogram: Histogram<UInt64>
    var counters: Counters
    var errorKinds: [String: Int]
    /// Operations per second over the measured window.
    var ops: UInt64
    var seconds: Double
    var lost: Int
    var ok: Int
    var failed: Int
    /// Mode-specific figures, appended to the JSON object.
    var extra: [(String, JSONValue)] = []

    init(mode: String, options: CommonOptions, connect: ClientConnector.ConnectSummary, loops: [LoopSnapshot]) {
        self.mode = mode
        self.options = options
        self.connect = connect
        var histogram = Histogram<UInt64>(
            lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three
        )
        var counters = Counters()
        var errorKinds: [String: Int] = [:]
        for loop in loops {
            histogram.add(loop.histogram)
            counters = counters + loop.counters
            errorKinds.merge(loop.errorKinds, uniquingKeysWith: +)
        }
        self.histogram = histogram
        self.counters = counters
        self.errorKinds = errorKinds
        ops = counters.ops
        seconds = options.duration
        lost = 0
        ok = 0
        failed = 0
    }

    var opsPerSecond: Double { seconds > 0 ? Double(ops) / seconds : 0 }

    private func percentile(_ p: Double) -> Int {
        histogram.totalCount == 0 ? 0 : Int(histogram.valueAtPercentile(p))
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    var json: JSONValue {
        var fields: [(String, JSONValue)] = [
            ("mode", .string(mode)),
            ("label", .string(options.label)),
            ("url", .string(options.url)),
            ("connections", .int(options.connections)),
            ("connected", .int(connect.connected)),
            ("connect_failed", .int(connect.failed)),
            ("connect_seconds", .double(connect.seconds)),
            ("duration", .double(seconds)),
            ("warmup", .double(options.warmup)),
            ("payload_size", .int(options.payloadSize)),
            ("ops", .int(Int(ops))),
            ("ops_per_sec", .double(opsPerSecond)),
            ("samples", .int(Int(histogram.totalCount))),
            ("p50_us", .int(percentile(50))),
            ("p90_us", .int(percentile(90))),
            ("p99_us", .int(percentile(99))),
            ("p999_us", .int(percentile(99.9))),
            ("max_us", .int(histogram.totalCount == 0 ? 0 : Int(histogram.max))),
            ("mean_us", .double(histogram.totalCount == 0 ? 0 : histogram.mean)),
            ("lost", .int(lost)),
            ("ok", .int(ok)),
            ("failed", .int(failed)),
            ("closed_early", .int(Int(counters.closedEarly))),
            ("errors", .int(Int(counters.errors))),
            ("unexpected", .int(Int(counters.unexpected))),
            ("client_cpu_s", .double(RunReport.cpuSeconds())),
        ]
        fields.append(contentsOf: extra)
        var kinds = connect.errorKinds
        kinds.merge(errorKinds, uniquingKeysWith: +)
        let topKinds = kinds.sorted { $0.value > $1.value }.prefix(8)
        fields.append(("error_kinds", .fields(topKinds.map { ($0.key, .int($0.value)) })))
        return .fields(fields)
    }

    /// Human-readable lines, then the JSON summary as the very last line.
    func print(headline: String) {
        Output.line("== \(mode): \(headline)")
        Output.line("   connections \(connect.connected)/\(options.connections) open in \(String(format: "%.2f", connect.seconds)) s, \(connect.failed) failed")
        if histogram.totalCount > 0 {
            Output.line("   latency us: p50 \(percentile(50))  p90 \(percentile(90))  p99 \(percentile(99))  p99.9 \(percentile(99.9))  max \(histogram.max)  (\(histogram.totalCount) samples)")
        }
        if counters.closedEarly + counters.errors > 0 {
            Output.line("   closed early \(counters.closedEarly), errors \(counters.errors)")
        }
        Output.line(json.encoded)
    }
}
