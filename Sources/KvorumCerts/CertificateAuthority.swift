import Crypto
import Foundation
import X509

/// A certificate with its P-256 private key, as made by a
/// ``CertificateAuthority``.
public struct IssuedCertificate: Sendable {
    public let certificate: Certificate
    public let privateKey: P256.Signing.PrivateKey

    /// The certificate in PEM.
    public func certificatePEM() throws -> String {
        try certificate.serializeAsPEM().pemString + "\n"
    }

    /// The private key in PEM (PKCS#8).
    public var keyPEM: String { privateKey.pemRepresentation + "\n" }
}

/// The cluster's certificate authority: a self-signed certificate and its
/// key, which signs node and client certificates.
///
/// Every certificate is valid from an hour before `now`, so a machine whose
/// clock is a little behind the one that made it accepts it at once (the
/// same margin `cockroach cert` uses). Serial numbers are 20 random bytes.
public struct CertificateAuthority: Sendable {
    /// The subject and issuer of the CA certificate.
    public static let commonName = "Kvorum CA"
    /// The organization every Kvorum certificate names.
    public static let organization = "Kvorum"

    public let issued: IssuedCertificate

    public var certificate: Certificate { issued.certificate }

    /// Wraps a CA read back from its files; throws if the key is not the
    /// certificate's.
    public init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) throws {
        guard certificate.publicKey == Certificate.PublicKey(privateKey.publicKey) else {
            throw CertificateError.keyMismatch(certificate: "the CA certificate", key: "the CA key")
        }
        issued = IssuedCertificate(certificate: certificate, privateKey: privateKey)
    }

    /// Makes a new CA: basicConstraints CA:true (critical) and keyUsage
    /// keyCertSign and cRLSign (critical), valid for `lifetime` days.
    public static func create(lifetime days: Int, now: Date = Date()) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let name = try DistinguishedName {
            OrganizationName(organization)
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: notBefore(now),
            notValidAfter: try notAfter(now, days),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        return try CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// A node certificate: CN = `name`, extended key usage serverAuth and
    /// clientAuth (a node both accepts and opens peer connections), and a
    /// subjectAltName entry for each host it is reached by.
    public func issueNode(name: String, hosts: [CertificateHost], lifetime days: Int, now: Date = Date()) throws
        -> IssuedCertificate
    {
        try issue(
            commonName: name, usages: [.serverAuth, .clientAuth], hosts: hosts, lifetime: days, now: now)
    }

    /// A client certificate: CN = the user `name`, extended key usage
    /// clientAuth, no subjectAltName.
    public func issueClient(name: String, lifetime days: Int, now: Date = Date()) throws -> IssuedCertificate {
        try issue(commonName: name, usages: [.clientAuth], hosts: [], lifetime: days, now: now)
    }

    private func issue(
        commonName: String, usages: [ExtendedKeyUsage.Usage], hosts: [CertificateHost], lifetime days: Int,
        now: Date
    ) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subject = try DistinguishedName {
            OrganizationName(Self.organization)
            CommonName(commonName)
        }
        let authorityKeyID = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        let names = hosts.map(\.generalName)
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: Self.notBefore(now),
            notValidAfter: try Self.notAfter(now, days),
            issuer: self.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage(usages)
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
                if !names.isEmpty { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: Certificate.PrivateKey(issued.privateKey)
        )
        return IssuedCertificate(certificate: certificate, privateKey: key)
    }

    private static func notBefore(_ now: Date) -> Date { now.addingTimeInterval(-3600) }

    private static func notAfter(_ now: Date, _ days: Int) throws -> Date {
        guard days > 0 else { throw CertificateError.invalidLifetime(days) }
        return now.addingTimeInterval(Double(days) * 86400)
    }
}
