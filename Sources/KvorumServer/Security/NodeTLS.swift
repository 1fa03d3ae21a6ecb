import Crypto
import Foundation
import KvorumCerts
import NIOCore
import NIOSSL
import X509

/// The TLS a node speaks to its peers, loaded from a certificate directory
/// (`kvorum certs create-node`, docs/security.md): `ca.crt`, the cluster CA
/// that every peer's certificate must chain to, and `node.crt`/`node.key`,
/// this node's own certificate (its common name is the node's name) and key.
///
/// Both sides of a peer connection present a certificate (mutual TLS, TLS
/// 1.3 only). The acceptor requires the dialer's certificate to chain to
/// the CA but checks no host name (a dialer's address is not known until
/// its hello); the dialer verifies the acceptor fully, the dialed host
/// against the certificate's subjectAltName. What each certificate *names*
/// is then checked against what the peer claims by `PeerIdentity`.
public struct NodeTLS: Sendable {
    /// The node's certificate: its name (common name) and the hosts it names.
    public let certificate: PeerCertificate
    /// When the node's certificate expires.
    public let expires: Date
    private let serverContext: NIOSSLContext
    private let clientContext: NIOSSLContext
    /// The client port's HTTPS context (`HTTPTLS`): the same certificate,
    /// TLS 1.2 at least, and a client certificate optional but, when
    /// presented, verified against the same CA.
    let httpContext: NIOSSLContext

    /// Reads and checks the directory's files, and builds the TLS contexts.
    ///
    /// - Parameters:
    ///   - directory: the certificate directory.
    ///   - nodeName: the name this node runs under, which must be the
    ///     certificate's common name: any other name would be refused by
    ///     every peer.
    ///   - now: the time the certificate must be valid at.
    /// - Throws: `NodeTLSError`, naming the file and what is wrong with it.
    public static func load(directory: String, nodeName: String, now: Date = Date()) throws(NodeTLSError) -> NodeTLS {
        let folder = URL(fileURLWithPath: directory)
        let caFile = folder.appendingPathComponent("ca.crt").path
        let certificateFile = folder.appendingPathComponent("node.crt").path
        let keyFile = folder.appendingPathComponent("node.key").path
        // Read here too, so that a missing or broken CA file is named.
        _ = try readCertificate(caFile)
        let certificate = try readCertificate(certificateFile)
        let keyText = try readText(keyFile)
        let key: P256.Signing.PrivateKey
        do {
            key = try P256.Signing.PrivateKey(pemRepresentation: keyText)
        } catch {
            throw .unreadable(path: keyFile, reason: "not a P-256 private key in PEM")
        }
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw .keyMismatch(certificate: certificateFile, key: keyFile)
        }
        guard now < certificate.notValidAfter else {
            throw .expired(path: certificateFile, expired: certificate.notValidAfter)
        }
        guard now >= certificate.notValidBefore else {
            throw .notYetValid(path: certificateFile, from: certificate.notValidBefore)
        }
        let identity = PeerCertificate(certificate)
        guard identity.commonName == nodeName else {
            throw .wrongName(path: certificateFile, certificateName: identity.commonName, nodeName: nodeName)
        }
        do {
            let chain = [
                NIOSSLCertificateSource.certificate(try NIOSSLCertificate(file: certificateFile, format: .pem))
            ]
            let privateKey = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            let roots = NIOSSLTrustRoots.certificates([try NIOSSLCertificate(file: caFile, format: .pem)])
            var server = TLSConfiguration.makeServerConfigurationWithMTLS(
                certificateChain: chain, privateKey: privateKey, trustRoots: roots)
            server.minimumTLSVersion = .tlsv13
            var client = TLSConfiguration.makeClientConfiguration()
            client.certificateChain = chain
            client.privateKey = privateKey
            client.trustRoots = roots
            client.certificateVerification = .fullVerification
            client.minimumTLSVersion = .tlsv13
            var http = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: privateKey)
            http.minimumTLSVersion = .tlsv12
            http.trustRoots = roots
            http.certificateVerification = .optionalVerification
            return NodeTLS(
                certificate: identity, expires: certificate.notValidAfter,
                serverContext: try NIOSSLContext(configuration: server),
                clientContext: try NIOSSLContext(configuration: client),
                httpContext: try NIOSSLContext(configuration: http))
        } catch {
            throw .unreadable(path: directory, reason: "TLS refused the files: \(error)")
        }
    }

    /// The handler that opens an accepted peer connection.
    func acceptorHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: serverContext)
    }

    /// The handler that opens a connection this node dials to `host`. A DNS
    /// name is sent as the server name and checked against the acceptor's
    /// certificate; an IP address (which TLS does not send as a server
    /// name) is checked against the certificate's IP entries.
    func dialerHandler(host: String) throws -> NIOSSLClientHandler {
        var serverName: String? = host
        if case .ipAddress? = try? CertificateHost(parsing: host) { serverName = nil }
        return try NIOSSLClientHandler(context: clientContext, serverHostname: serverName)
    }

    private static func readText(_ path: String) throws(NodeTLSError) -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path: path) }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
    }

    private static func readCertificate(_ path: String) throws(NodeTLSError) -> Certificate {
        let text = try readText(path)
        do {
            return try Certificate(pemEncoded: text)
        } catch {
            throw .unreadable(path: path, reason: "not a PEM certificate")
        }
    }
}

/// What a certificate says of whom it was issued to: the common name (a
/// node's name) and the hosts of its subjectAltName.
public struct PeerCertificate: Sendable, Equatable {
    public var commonName: String?
    public var hosts: [CertificateHost]

    public init(commonName: String?, hosts: [CertificateHost]) {
        self.commonName = commonName
        self.hosts = hosts
    }

    init(_ certificate: Certificate) {
        var commonName: String?
        for name in certificate.subject {
            for attribute in name where attribute.type == .RDNAttributeType.commonName {
                commonName = String(attribute.value)
            }
        }
        let alternatives: SubjectAlternativeNames? = try? certificate.extensions.subjectAlternativeNames
        let names: [GeneralName] = alternatives.map { Array($0) } ?? []
        let hosts = names.compactMap { name -> CertificateHost? in
            switch name {
            case .dnsName(let text): .dnsName(text)
            case .ipAddress(let octets): .ipAddress(Array(octets.bytes))
            default: nil
            }
        }
        self.init(commonName: commonName, hosts: hosts)
    }

    /// What the TLS handshake verified of the other side's certificate.
    init?(_ certificate: NIOSSLCertificate) {
        guard let parsed = try? Certificate(derEncoded: certificate.toDERBytes()) else { return nil }
        self.init(parsed)
    }

    /// Whether the subjectAltName names `host` (an IP literal, compared by
    /// its bytes, or a DNS name, compared without case).
    func names(host: String) -> Bool {
        guard let wanted = try? CertificateHost(parsing: host) else { return false }
        return hosts.contains { held in
            switch (held, wanted) {
            case (.ipAddress(let a), .ipAddress(let b)): a == b
            case (.dnsName(let a), .dnsName(let b)): a.lowercased() == b.lowercased()
            default: false
            }
        }
    }
}

/// Why a node's certificate directory cannot be used.
public enum NodeTLSError: Error, Equatable, CustomStringConvertible {
    case missingFile(path: String)
    case unreadable(path: String, reason: String)
    case keyMismatch(certificate: String, key: String)
    case expired(path: String, expired: Date)
    case notYetValid(path: String, from: Date)
    case wrongName(path: String, certificateName: String?, nodeName: String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            "\(path) does not exist: make it with `kvorum certs create-node NAME --host H … --certs-dir DIR` "
                + "(docs/security.md)"
        case .unreadable(let path, let reason):
            "cannot use \(path): \(reason)"
        case .keyMismatch(let certificate, let key):
            "\(key) is not the key of \(certificate): the two files come from different create-node runs"
        case .expired(let path, let date):
            "\(path) expired at \(date.ISO8601Format()): issue a new one with `kvorum certs create-node "
                + "--overwrite` and restart the node"
        case .notYetValid(let path, let date):
            "\(path) is not valid before \(date.ISO8601Format()): check this host's clock"
        case .wrongName(let path, let certificateName, let nodeName):
            "\(path) is for node '\(certificateName ?? "(no common name)")', but this node is named '\(nodeName)': "
                + "peers accept a node only under its certificate's name"
        }
    }
}
