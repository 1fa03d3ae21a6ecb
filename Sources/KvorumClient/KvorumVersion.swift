/// The version of Kvorum, the one place it is written: `kvorum --version`
/// prints it.
public enum KvorumVersion {
    /// The version, `MAJOR.MINOR.PATCH`.
    public static let current = "0.1.0"
}
