import NIOWebSocket

/// The WebSocket close codes the gateway counts one by one; every other code is counted as `other`.
///
/// 1005 is a close frame without a code; 1006 is no close frame at all (the client vanished: a reset,
/// a plain TCP close, a heartbeat timeout, no answer to the gateway's close). Neither is ever sent.
enum CloseCodeBucket: Int, CaseIterable {
    case normalClosure, goingAway, protocolError, unacceptableData, noStatus, abnormal, invalidData
    case policyViolation, messageTooLarge, missingExtension, internalError, tryAgainLater, other

    static let codes: [UInt16] = [1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1013]

    init(code: UInt16) {
        self = Self.codes.firstIndex(of: code).flatMap { Self(rawValue: $0) } ?? .other
    }

    init(_ code: WebSocketErrorCode) {
        self.init(code: UInt16(webSocketErrorCode: code))
    }

    /// The label of its counter: the code, or `other`.
    var label: String {
        self == .other ? "other" : String(Self.codes[rawValue])
    }
}
