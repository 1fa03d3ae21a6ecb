/// Why a certificate could not be made or read, worded for an operator.
public enum CertificateError: Error, Equatable, CustomStringConvertible {
    /// The CA certificate or key is not where it was looked for.
    case missingAuthority(path: String)
    /// A file would be replaced and `--overwrite` was not given.
    case fileExists(path: String)
    /// A `--host` is neither an IP address nor a DNS name.
    case invalidHost(String)
    /// A node or client name that cannot be a file name part or a CN.
    case invalidName(String)
    /// A lifetime of zero days or less.
    case invalidLifetime(Int)
    /// A file that is not the PEM it should be.
    case unreadable(path: String, reason: String)
    /// A file that could not be written.
    case unwritable(path: String, reason: String)
    /// The CA key does not belong to the CA certificate.
    case keyMismatch(certificate: String, key: String)

    public var description: String {
        switch self {
        case .missingAuthority(let path):
            "no CA at \(path): run `kvorum certs create-ca` first (with the same --certs-dir and --ca-key)"
        case .fileExists(let path):
            "\(path) already exists; pass --overwrite to replace it"
        case .invalidHost(let host):
            "--host \(host) is neither an IP address nor a DNS name"
        case .invalidName(let name):
            "invalid name \(name.debugDescription): use letters, digits, '-', '_' and '.', not starting with '.'"
        case .invalidLifetime(let days):
            "--lifetime must be at least 1 day, not \(days)"
        case .unreadable(let path, let reason):
            "cannot read \(path): \(reason)"
        case .unwritable(let path, let reason):
            "cannot write \(path): \(reason)"
        case .keyMismatch(let certificate, let key):
            "\(key) is not the key of \(certificate)"
        }
    }
}
