/// The first frame on a worker's link to a gateway (``GatewayCommand/workerConnect``, body JSON):
/// GatewayWorker's `{"worker_key": "name:id", "secret_key": "..."}`.
public struct WorkerHello: Codable, Sendable, Equatable {
    /// Names the worker process, `name:id`, for logs and routing tables.
    public var workerKey: String
    public var secretKey: String

    public init(workerKey: String, secretKey: String) {
        self.workerKey = workerKey
        self.secretKey = secretKey
    }

    enum CodingKeys: String, CodingKey {
        case workerKey = "worker_key"
        case secretKey = "secret_key"
    }
}

/// The gateway's answer to a ``WorkerHello`` (``GatewayCommand/handshakeResult``, body JSON).
public struct HandshakeResult: Codable, Sendable, Equatable {
    public var accepted: Bool
    /// Why the link was refused; never contains the key.
    public var reason: String?

    public init(accepted: Bool, reason: String? = nil) {
        self.accepted = accepted
        self.reason = reason
    }
}

/// Compares two secrets in time that depends only on their lengths, not on where they differ.
public func secretsMatch(_ offered: String, _ expected: String) -> Bool {
    let lhs = Array(offered.utf8)
    let rhs = Array(expected.utf8)
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
}
