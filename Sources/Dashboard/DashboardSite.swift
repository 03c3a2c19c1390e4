import Foundation

/// The operator dashboard: a page of plain HTML, CSS and JavaScript modules that talks to the
/// cluster over WebSocket on the origin it was loaded from. The gateway serves it as a static site.
public enum DashboardSite {
    /// The bundle folder that holds the page's files (`index.html` and what it loads). SwiftPM puts
    /// the bundle (`DataCentered_Dashboard.resources`) next to the built executable: an installed
    /// binary needs it copied beside it (or `--dashboard-directory`).
    public static var directory: URL? {
        Bundle.module.url(forResource: "Site", withExtension: nil)
    }
}
