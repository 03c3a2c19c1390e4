/// Why a ``WorkerConfiguration`` cannot run.
public enum WorkerConfigurationError: Error, CustomStringConvertible {
    case noConcurrentEvents(Int)

    public var description: String {
        switch self {
        case .noConcurrentEvents(let limit):
            "the worker must run at least 1 event at a time, not \(limit)"
        }
    }
}
