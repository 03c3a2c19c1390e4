import ArgumentParser
import Dashboard
import Foundation
import Gateway

/// Whether and from where a gateway serves the operator dashboard on its public ports.
struct DashboardOptions: ParsableArguments {
    @Flag(
        inversion: .prefixedNo,
        help: "Serve the operator dashboard to plain HTTP(S) GET on the public ports (ws and wss); --no-dashboard answers such requests with 426."
    )
    var dashboard = true

    @Option(help: "Serve the dashboard from this folder instead of the one built into datacentered (to try changes without a rebuild).")
    var dashboardDirectory: String?

    /// The site to serve, or nil when the dashboard is off.
    func site() throws -> StaticSite? {
        guard dashboard else { return nil }
        if let dashboardDirectory { return try StaticSite(directory: URL(fileURLWithPath: dashboardDirectory)) }
        guard let directory = DashboardSite.directory else {
            throw ValidationError("the dashboard's files are missing from the build; use --dashboard-directory or --no-dashboard")
        }
        return try StaticSite(directory: directory)
    }
}
