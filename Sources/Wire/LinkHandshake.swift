/// The first frame on a link to a gateway (body JSON): GatewayWorker's
/// `{"worker_key": "name:id", "secret_key": "..."}` from a worker (``GatewayCommand/workerConnect``),
/// or `{"secret_key": "..."}` from a gateway client (``GatewayCommand/gatewayClientConnect``).
public struct WorkerHello: Codable, Sendable, Equatable {
    /// Names the process, `name:id`, for logs; GatewayWorker's gateway clients send none.
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

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.workerKey = try container.decodeIfPresent(String.self, forKey: .workerKey) ?? "gateway-client"
        self.secretKey = try container.decode(String.self, forKey: .secretKey)
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
