/// How one configuration key is spelt in each place it can be set.
enum ConfigurationKeyNames {
    /// `gateway.lanStartPort` -> `--gateway-lan-start-port` (swift-configuration's command-line encoding).
    static func flag(_ key: String) -> String {
        "--" + components(key).map { $0.lowercased() }.joined(separator: "-")
    }

    /// `gateway.lanStartPort` -> `DATACENTERED_GATEWAY_LAN_START_PORT` (its environment encoding, prefixed).
    static func environmentVariable(_ key: String) -> String {
        (["DATACENTERED"] + components(key).map { $0.uppercased() }).joined(separator: "_")
    }

    /// The camelCase words of every dotted component: `gateway.lanStartPort` -> gateway, lan, Start, Port.
    private static func components(_ key: String) -> [String] {
        key.split(separator: ".").flatMap { component -> [String] in
            var words: [String] = []
            var current = ""
            var previous: Character?
            for character in component {
                if let previous, previous.isLowercase, character.isUppercase {
                    words.append(current)
                    current = ""
                }
                current.append(character)
                previous = character
            }
            words.append(current)
            return words
        }
    }
}
