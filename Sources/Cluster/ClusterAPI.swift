import NIOCore
import Wire

/// What a handler or another service can do to clients anywhere in the cluster: GatewayWorker's
/// `Lib\Gateway` and GatewayClient, as async Swift functions.
///
/// Calls keyed by client id go to the one gateway the id names. Calls keyed by uid or group, or for
/// everyone, go to every gateway and merge the answers; when some gateways do not answer in time the
/// call throws ``IncompleteAnswerError`` naming them and carrying what the others answered.
/// Sends and membership changes return once queued on the link; queries wait for their answers.
public struct ClusterAPI: Sendable {
    let transport: any GatewayTransport
    /// The client whose event is being handled; nil outside client events.
    public let currentClient: ClientID?
    /// How long a query waits for each gateway.
    public let queryTimeout: TimeAmount

    public init(transport: any GatewayTransport, currentClient: ClientID? = nil, queryTimeout: TimeAmount = .seconds(5)) {
        self.transport = transport
        self.currentClient = currentClient
        self.queryTimeout = queryTimeout
    }

    /// The current client, or an error outside client events.
    func requireCurrentClient() throws -> ClientID {
        guard let currentClient else { throw ClusterAPIError.noCurrentClient }
        return currentClient
    }

    /// A frame about one client, addressed to its gateway.
    static func frame(_ command: GatewayCommand, about client: ClientID, body: ByteBuffer = ByteBuffer(), flags: GatewayFrame.Flags = []) -> GatewayFrame {
        GatewayFrame(
            command: command,
            localIP: client.gatewayIP,
            localPort: client.gatewayPort,
            connectionID: client.connectionNumber,
            flags: flags,
            body: body
        )
    }

    /// Sends a command about one client to the gateway that holds it.
    func send(_ command: GatewayCommand, about client: ClientID, body: ByteBuffer = ByteBuffer(), flags: GatewayFrame.Flags = []) async throws {
        try await transport.send(Self.frame(command, about: client, body: body, flags: flags), to: client.gateway)
    }

    /// Sends `frame` to every gateway.
    func sendToEveryGateway(_ frame: GatewayFrame) async throws {
        let gateways = try await transport.gatewayAddresses()
        guard !gateways.isEmpty else { throw ClusterAPIError.noGatewayLinked }
        for gateway in gateways { try await transport.send(frame, to: gateway, following: currentClient) }
    }

    /// Asks one gateway and decodes its answer.
    func ask<Answer: Codable & Sendable>(_ frame: GatewayFrame, gateway: GatewayAddress, as type: Answer.Type) async throws -> Answer {
        let body = try await transport.query(frame, to: gateway, following: currentClient, timeout: queryTimeout)
        guard let answer = try? body.decodeJSON(as: QueryAnswer<Answer>.self) else {
            throw ClusterAPIError.malformedAnswer(gateway)
        }
        if let error = answer.error { throw ClusterAPIError.refused(gateway, reason: error) }
        guard let value = answer.value else { throw ClusterAPIError.malformedAnswer(gateway) }
        return value
    }

    /// Asks every gateway at once and merges the answers; names the gateways that did not answer.
    func askEveryGateway<Answer: Codable & Sendable, Merged: Sendable>(
        _ frame: GatewayFrame,
        as type: Answer.Type,
        into initial: Merged,
        merge: @escaping @Sendable (inout Merged, Answer) -> Void
    ) async throws -> Merged {
        let gateways = try await transport.gatewayAddresses()
        guard !gateways.isEmpty else { throw ClusterAPIError.noGatewayLinked }
        let (merged, failures) = await withTaskGroup(of: (GatewayAddress, Result<Answer, ClusterAPIError>).self) { tasks in
            for gateway in gateways {
                tasks.addTask {
                    do {
                        return (gateway, .success(try await ask(frame, gateway: gateway, as: type)))
                    } catch let error as ClusterAPIError {
                        return (gateway, .failure(error))
                    } catch {
                        return (gateway, .failure(.refused(gateway, reason: "\(error)")))
                    }
                }
            }
            var merged = initial
            var failures: [GatewayAddress: ClusterAPIError] = [:]
            for await (gateway, result) in tasks {
                switch result {
                case .success(let answer): merge(&merged, answer)
                case .failure(let error): failures[gateway] = error
                }
            }
            return (merged, failures)
        }
        guard failures.isEmpty else { throw IncompleteAnswerError(partialAnswer: merged, failures: failures) }
        return merged
    }
}
