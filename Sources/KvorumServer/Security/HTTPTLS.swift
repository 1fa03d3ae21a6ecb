import NIOSSL

/// The HTTPS side of a node's client port: its certificate and key, and
/// the cluster CA that client certificates must be signed by.
///
/// The files are the ones `kvorum certs create-node` writes into a node's
/// directory (`--certs-dir`): `node.crt`, `node.key`, `ca.crt`. A client
/// certificate is optional at the TLS layer: one that is presented must be
/// signed by the CA and be within its validity period, or the handshake
/// fails; a client without one authenticates with a bearer token instead.
public struct HTTPTLS: Sendable {
    let context: NIOSSLContext

    /// Loads the node's TLS files from `directory`.
    ///
    /// - Throws: a message naming the file that is missing or unreadable and
    ///   how to make it.
    public static func load(directory: String) throws(SettingsError) -> HTTPTLS {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let authority = try read(base + "ca.crt") { try NIOSSLCertificate.fromPEMFile($0) }
        let chain = try read(base + "node.crt") { try NIOSSLCertificate.fromPEMFile($0) }
        let key = try read(base + "node.key") { try NIOSSLPrivateKey(file: $0, format: .pem) }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.trustRoots = .certificates(authority)
        configuration.certificateVerification = .optionalVerification
        do {
            return HTTPTLS(context: try NIOSSLContext(configuration: configuration))
        } catch {
            throw SettingsError("\(base)node.crt and node.key do not make a TLS identity: \(error)")
        }
    }

    private static func read<T>(_ path: String, _ load: (String) throws -> T) throws(SettingsError) -> T {
        do {
            return try load(path)
        } catch {
            throw SettingsError(
                "cannot load \(path) (\(error)): make the node's certificates with `kvorum certs create-ca` and "
                    + "`kvorum certs create-node NAME --host HOST …` (docs/security.md)")
        }
    }

    /// The common name of a verified client certificate, if the connection
    /// presented one.
    static func clientName(_ handler: NIOSSLServerHandler) -> String? {
        handler.peerCertificate?.subjectName.last(where: { $0.type == .commonName })?.value
    }
}
