/// Why a byte stream is not a valid sequence of ``GatewayFrame``s. Each one closes the link it came from.
public enum GatewayFrameError: Error, Equatable, CustomStringConvertible {
    /// The length field is smaller than the fixed header.
    case lengthBelowHeader(UInt32)
    /// The length field is larger than the configured maximum frame size.
    case lengthAboveMaximum(length: UInt32, maximum: Int)
    /// The ext-data length does not fit inside the frame.
    case extLengthOutOfFrame(extLength: UInt32, frameLength: UInt32)
    /// The command byte is not a known ``GatewayCommand``.
    case unknownCommand(UInt8)
    /// The frame's body is not what its command requires.
    case malformedBody(GatewayCommand)
    /// The link ended in the middle of a frame.
    case truncated(bufferedBytes: Int)
    /// The frame to encode is larger than the maximum frame size.
    case frameTooLarge(length: Int, maximum: Int)

    public var description: String {
        switch self {
        case .lengthBelowHeader(let length):
            return "frame length \(length) is below the \(GatewayFrame.headerLength)-byte header"
        case .lengthAboveMaximum(let length, let maximum):
            return "frame length \(length) is above the maximum of \(maximum) bytes"
        case .extLengthOutOfFrame(let extLength, let frameLength):
            return "ext length \(extLength) does not fit in a frame of \(frameLength) bytes"
        case .unknownCommand(let command):
            return "unknown command \(command)"
        case .malformedBody(let command):
            return "malformed body for \(command)"
        case .truncated(let count):
            return "link ended in the middle of a frame (\(count) bytes of it received)"
        case .frameTooLarge(let length, let maximum):
            return "frame of \(length) bytes is above the maximum of \(maximum) bytes"
        }
    }
}
