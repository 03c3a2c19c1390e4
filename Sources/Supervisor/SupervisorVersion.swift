/// The version `datacentered status` reports.
public enum SupervisorVersion {
    public static let current = "0.9.0"
}
