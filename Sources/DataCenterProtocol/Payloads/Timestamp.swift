import Foundation

/// A point in time, written as an RFC 3339 string in UTC with milliseconds (`2026-12-02T07:41:05.123Z`)
/// whatever encoder writes it, so records kept in memcached read the same as on the wire.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let date: Date

    public init(_ date: Date) {
        self.date = date
    }

    /// Now.
    public static var now: Timestamp { Timestamp(Date()) }

    /// Reads the RFC 3339 text that `description` writes; nil when it is not one.
    public init?(_ text: String) {
        guard let date = Self.parse(text) else { return nil }
        self.date = date
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = Self.parse(text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not an RFC 3339 time"))
        }
        self.date = date
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Milliseconds rounded, not truncated as the formatter's fraction is: a time read back from its
    /// text (which may land a hair below the millisecond) writes the same text again.
    public var description: String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        if abs(milliseconds) < 1e15, let text = RFC3339Text.format(milliseconds: Int64(milliseconds)) { return text }
        let seconds = (milliseconds / 1000).rounded(.down)
        let text = Date(timeIntervalSince1970: seconds).formatted(Self.withoutFraction)
        return text.dropLast() + "." + String(format: "%03d", Int(milliseconds - seconds * 1000)) + "Z"
    }

    /// The time `seconds` later.
    public func adding(seconds: Double) -> Timestamp {
        Timestamp(date.addingTimeInterval(seconds))
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.date < rhs.date }

    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let withoutFraction = Date.ISO8601FormatStyle(timeZone: .gmt)

    private static func parse(_ text: String) -> Date? {
        if let milliseconds = RFC3339Text.milliseconds(from: text) { return Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
        return (try? withFraction.parse(text)) ?? (try? withoutFraction.parse(text))
    }
}
