import Foundation
import NIOSSL

/// How a client proves who it is and whom it trusts, for a node that serves
/// HTTPS and checks access (docs/security.md): the cluster's CA, an optional
/// client certificate and key, an optional bearer token. Every field is
/// optional; an empty value changes nothing for a plain-HTTP node.
public struct ClientCredentials: Sendable, Equatable {
    /// The PEM file of the CA that signed the node's certificate (nil: the
    /// system's trusted roots).
    public var caFile: String?
    /// The PEM files of a client certificate and its key (`kvorum certs create-client`).
    public var certificateFile: String?
    public var keyFile: String?
    /// A bearer token (`kvorum certs create-token`), sent as `Authorization: Bearer …`.
    public var token: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, token: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.token = token
    }

    /// The request headers the credentials add.
    var headers: [PreparedRequest.Header] {
        guard let token, !token.isEmpty else { return [] }
        return [.init(name: "Authorization", value: "Bearer \(token)")]
    }

    /// The TLS context of an HTTPS connection: the node's certificate must be
    /// signed by the CA and name the host (its DNS name or IP address).
    ///
    /// - Throws: a message naming the file that could not be loaded.
    func tlsContext() throws(KvorumClientError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            configuration.trustRoots = .certificates(
                try Self.load("CA certificate", caFile, NIOSSLCertificate.fromPEMFile))
        }
        switch (certificateFile, keyFile) {
        case (nil, nil): break
        case (let certificate?, let key?):
            configuration.certificateChain = try Self.load(
                "client certificate", certificate, NIOSSLCertificate.fromPEMFile
            )
            .map { .certificate($0) }
            configuration.privateKey = .privateKey(
                try Self.load("client key", key) { try NIOSSLPrivateKey(file: $0, format: .pem) })
        default:
            throw KvorumClientError(status: nil, message: "a client certificate needs both --cert FILE and --key FILE")
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw KvorumClientError(status: nil, message: "cannot set up TLS: \(error)")
        }
    }

    /// The CA certificate's PEM text, for diagnosing a failed verification.
    var caPEM: String? { caFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } }

    private static func load<T>(_ what: String, _ path: String, _ read: (String) throws -> T)
        throws(KvorumClientError) -> T
    {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw KvorumClientError(status: nil, message: "cannot read the \(what) file \(path)")
        }
        do {
            return try read(path)
        } catch {
            throw KvorumClientError(status: nil, message: "\(path) is not a PEM \(what): \(error)")
        }
    }
}
