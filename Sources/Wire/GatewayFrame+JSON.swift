import Foundation
import NIOCore
import NIOFoundationCompat

extension ByteBuffer {
    /// A buffer holding `value` as JSON (it throws for what JSON cannot hold, such as NaN).
    public init(json value: some Encodable) throws {
        self.init(data: try JSONEncoder.frames.encode(value))
    }

    /// The readable bytes decoded as JSON into `type`.
    public func decodeJSON<T: Decodable>(as type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: self)
    }
}

extension JSONEncoder {
    /// The encoder for frame bodies: sorted keys, so equal values encode to equal bytes.
    static var frames: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
