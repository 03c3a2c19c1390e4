import Foundation

@testable import Agent

/// Paths of the fixture tree copied into the test bundle.
enum AgentFixtures {
    static var root: String { Bundle.module.resourcePath! + "/Fixtures" }

    /// A fixture script of Fixtures/bin.
    static func bin(_ name: String) -> String { root + "/bin/" + name }

    static var systemPaths: SystemPaths {
        SystemPaths(proc: root + "/proc", sys: root + "/sys", etc: root + "/etc")
    }
}
