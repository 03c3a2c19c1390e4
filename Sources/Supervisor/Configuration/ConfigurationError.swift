/// A configuration the supervisor refuses, naming what to fix.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// A key holds a value outside what it allows.
    case invalidValue(key: String, value: String, allowed: String)
    /// The file or the command line names keys that do not exist (misspelt or removed).
    case unknownKeys([String], source: String)
    /// The file cannot be read or is not a JSON object.
    case unreadableFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidValue(let key, let value, let allowed):
            return "configuration key '\(key)' has the value \(value); allowed: \(allowed)"
        case .unknownKeys(let keys, let source):
            let list = keys.map { "'\($0)'" }.joined(separator: ", ")
            return "unknown configuration key\(keys.count == 1 ? "" : "s") in \(source): \(list) (misspelt, or no longer used; see the README's Configuration section)"
        case .unreadableFile(let path, let reason):
            return "cannot read the configuration file \(path): \(reason)"
        }
    }
}
