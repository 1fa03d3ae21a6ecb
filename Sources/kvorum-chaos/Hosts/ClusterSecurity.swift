import Foundation
import KvorumBench
import KvorumCerts
import KvorumServer

/// What `--tls` gives a test cluster: a CA and a certificate per node (peer
/// TLS and HTTPS), an admin token whose hash every node's config lists, and
/// the kit's own client settings (the CA and that token), so the workload,
/// the nemesis and the checks reach the nodes over HTTPS.
struct ClusterSecurity {
    let certificates: CertificateSet
    /// The config file every node reads (`--config`): the token's hash.
    let configFile: String
    /// How the kit's connections reach the nodes.
    let client: ClientSecurity

    /// Makes the CA, the token and the config under `root`.
    init(root: URL) throws {
        certificates = try CertificateSet(root: root)
        let token = AccessToken.make()
        let config = root.appendingPathComponent("auth.toml")
        try """
        # Written by kvorum-chaos --tls: the kit's admin token, by its hash.
        [[auth.tokens]]
        name = "kvorum-chaos"
        role = "admin"
        sha256 = "\(AccessToken.hexHash(token))"

        """.write(to: config, atomically: true, encoding: .utf8)
        configFile = config.path
        client = try ClientSecurity(caFile: certificates.caCertificateFile.path, token: token)
    }

    /// The arguments that start node `name` on `host` with its certificate
    /// (issued on first use) and the config.
    func nodeArguments(name: String, host: String) throws -> [String] {
        let directory = try certificates.node(name, hosts: [try CertificateHost(parsing: host)])
        return ["--certs-dir", directory.path, "--config", configFile]
    }
}
