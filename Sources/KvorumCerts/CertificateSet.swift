import Foundation

/// A CA and the certificate directories of nodes it signs, side by side
/// under one root, for clusters whose certificates are made for them
/// (`kvorum cluster up --secure`, `kvorum-chaos --tls`, tests): `ROOT/ca`
/// holds `ca.crt` and `ca.key`, `ROOT/NAME` a node's `ca.crt`, `node.crt`
/// and `node.key`, ready to be its `--certs-dir`.
///
/// The CA key stays under the root so that more nodes can be issued later:
/// right for one machine's throwaway clusters, wrong for a deployment,
/// whose CA key belongs off the nodes (docs/security.md).
public struct CertificateSet: Sendable {
    public let root: URL
    private var authority: CertificateDirectory { CertificateDirectory(directory: root.appendingPathComponent("ca")) }

    /// Uses the CA under `root`, making it first if there is none.
    public init(root: URL, lifetime days: Int = 3650, now: Date = Date()) throws {
        self.root = root
        let authority = CertificateDirectory(directory: root.appendingPathComponent("ca"))
        try FileManager.default.createDirectory(at: authority.directory, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: authority.caCertificateFile.path) {
            try authority.createAuthority(lifetime: days, overwrite: false, now: now)
        }
    }

    /// The CA certificate every node trusts.
    public var caCertificateFile: URL { authority.caCertificateFile }

    /// Node `name`'s certificate directory, its certificate naming `hosts`:
    /// made if it holds no certificate yet, or made anew (a new key too)
    /// with `reissue`, as a rotation does.
    @discardableResult
    public func node(
        _ name: String, hosts: [CertificateHost], lifetime days: Int = 365, reissue: Bool = false, now: Date = Date()
    ) throws -> URL {
        let node = CertificateDirectory(directory: root.appendingPathComponent(name), caKey: authority.caKeyFile)
        let files = FileManager.default
        if !reissue && files.fileExists(atPath: node.files(.node).certificate.path) { return node.directory }
        try files.createDirectory(at: node.directory, withIntermediateDirectories: true)
        if !files.fileExists(atPath: node.caCertificateFile.path) {
            try files.copyItem(at: authority.caCertificateFile, to: node.caCertificateFile)
        }
        try node.createNode(name: name, hosts: hosts, lifetime: days, overwrite: reissue, now: now)
        return node.directory
    }
}
