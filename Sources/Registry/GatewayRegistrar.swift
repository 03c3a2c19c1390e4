import NIOConcurrencyHelpers
import Logging
import Wire

/// Keeps one gateway registered in the ``GatewayRegistry`` for as long as its task runs.
///
/// ``run()`` registers at once, refreshes every `refreshInterval`, and when its task is cancelled
/// unregisters (bounded in time) and returns. memcached being unreachable never stops it: the first failure
/// of an outage is logged at error level, the next ticks retry quietly, and the recovery is logged.
public struct GatewayRegistrar: Sendable {
    /// Where the gateway is registered.
    public let registry: GatewayRegistry
    /// The gateway's internal address.
    public let address: GatewayAddress
    /// Seconds the liveness key lives after each refresh; a few refresh intervals, so one slow tick is harmless.
    public let ttl: Int
    /// Time between refreshes.
    public let refreshInterval: Duration
    /// The longest ``run()`` spends unregistering once cancelled.
    public let unregisterTimeout: Duration

    private let logger: Logger
    private let onFailure: @Sendable () -> Void

    /// Creates a registrar; nothing happens until ``run()``.
    /// - Parameter onFailure: called after every failed registration or refresh (to count them).
    public init(
        registry: GatewayRegistry,
        address: GatewayAddress,
        ttl: Int = 6,
        refreshInterval: Duration = .seconds(2),
        unregisterTimeout: Duration = .seconds(3),
        logger: Logger,
        onFailure: @escaping @Sendable () -> Void = {}
    ) {
        precondition(ttl > 0, "ttl must be at least one second")
        self.registry = registry
        self.address = address
        self.ttl = ttl
        self.refreshInterval = refreshInterval
        self.unregisterTimeout = unregisterTimeout
        self.onFailure = onFailure
        var logger = logger
        logger[metadataKey: "gateway"] = "\(address)"
        self.logger = logger
    }

    /// Registers and refreshes until the task is cancelled, then unregisters. Never throws.
    public func run() async {
        var failing = false
        var registered = false
        while !Task.isCancelled {
            do {
                try await registry.register(address, ttl: ttl)
                if failing {
                    logger.notice("gateway registration restored in memcached", metadata: ["servers": servers])
                } else if !registered {
                    logger.info("gateway registered in memcached", metadata: ["servers": servers, "ttl": "\(ttl)"])
                }
                failing = false
                registered = true
            } catch is CancellationError {
                break
            } catch {
                onFailure()
                if !failing {
                    logger.error(
                        "cannot register gateway in memcached; retrying every \(refreshInterval): \(error)",
                        metadata: ["servers": servers]
                    )
                } else {
                    logger.debug("gateway registration still failing: \(error)")
                }
                failing = true
            }
            do {
                try await Task.sleep(for: refreshInterval)
            } catch {
                break
            }
        }
        await unregister()
    }

    private var servers: Logger.MetadataValue {
        .string(registry.client.configuration.servers.joined(separator: ","))
    }

    private func unregister() async {
        let registry = registry
        let address = address
        // Our task is cancelled, and so would be any request made from it: unregister in a task of its own.
        let outcome = await Self.withTimeLimit(unregisterTimeout) {
            try await registry.unregister(address)
        }
        switch outcome {
        case .finished:
            logger.info("gateway unregistered from memcached")
        case .failed(let error):
            logger.warning("could not unregister gateway from memcached; it expires in \(ttl) s: \(error)")
        case .timedOut:
            logger.warning("unregistering gateway from memcached took over \(unregisterTimeout); it expires in \(ttl) s")
        }
    }

    private enum Outcome: Sendable {
        case finished
        case failed(any Error)
        case timedOut
    }

    /// Runs `body` in an unstructured task (unaffected by the caller's cancellation) and waits at most `limit`.
    private static func withTimeLimit(
        _ limit: Duration,
        _ body: @escaping @Sendable () async throws -> Void
    ) async -> Outcome {
        let once = NIOLockedValueBox<CheckedContinuation<Outcome, Never>?>(nil)
        let resume = { @Sendable (outcome: Outcome) in
            let continuation = once.withLockedValue { box -> CheckedContinuation<Outcome, Never>? in
                defer { box = nil }
                return box
            }
            continuation?.resume(returning: outcome)
        }
        return await withCheckedContinuation { continuation in
            once.withLockedValue { $0 = continuation }
            // The request itself is bounded by the client's timeouts, so it is left to finish on its own.
            let timer = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                resume(.timedOut)
            }
            Task {
                do {
                    try await body()
                    resume(.finished)
                } catch {
                    resume(.failed(error))
                }
                timer.cancel()
            }
        }
    }
}
