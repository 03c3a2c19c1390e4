import Configuration

/// Reads typed keys through a `ConfigReader`, remembers which keys exist (to report unknown ones),
/// and turns a value of the wrong type into an error that names the key and the value.
final class ConfigurationKeyReader: @unchecked Sendable {
    private let reader: ConfigReader
    private let fileValues: [String: String]
    /// False returns the default for a value of the wrong type instead of throwing.
    private let strict: Bool
    /// Every key read so far, dotted.
    private(set) var readKeys: Set<String> = []

    init(reader: ConfigReader, fileValues: [String: String], strict: Bool = true) {
        self.reader = reader
        self.fileValues = fileValues
        self.strict = strict
    }

    func int(_ key: String, default value: Int) async throws -> Int {
        try await read(key, allowed: "an integer", default: value) { try await self.reader.fetchInt(forKey: ConfigKey(key), default: value) }
    }

    func double(_ key: String, default value: Double) async throws -> Double {
        try await read(key, allowed: "a number", default: value) { try await self.reader.fetchDouble(forKey: ConfigKey(key), default: value) }
    }

    func bool(_ key: String, default value: Bool) async throws -> Bool {
        try await read(key, allowed: "true or false", default: value) { try await self.reader.fetchBool(forKey: ConfigKey(key), default: value) }
    }

    func string(_ key: String, default value: String, isSecret: Bool = false) async throws -> String {
        try await read(key, allowed: "a string", default: value) {
            try await self.reader.fetchString(forKey: ConfigKey(key), isSecret: isSecret, default: value)
        }
    }

    func strings(_ key: String, default value: [String]) async throws -> [String] {
        try await read(key, allowed: "a list of strings (comma-separated in a flag or variable)", default: value) {
            try await self.reader.fetchStringArray(forKey: ConfigKey(key), default: value)
        }
    }

    private func read<Value>(_ key: String, allowed: String, default value: Value, _ fetch: () async throws -> Value) async throws -> Value {
        readKeys.insert(key)
        do {
            return try await fetch()
        } catch {
            if !strict { return value }
            throw ConfigurationError.invalidValue(key: key, value: fileValues[key] ?? "that cannot be read as \(allowed)", allowed: allowed)
        }
    }
}
