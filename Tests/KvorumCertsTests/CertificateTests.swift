import Crypto
import Foundation
import KvorumCerts
import SwiftASN1
import Testing

// A fixed validation time keeps the expiry checks exact.
@_spi(FixedExpiryValidationTime) import X509

/// The certificates `kvorum certs` makes, read back from their files and
/// checked with swift-certificates' own parser and RFC 5280 verifier.
struct CertificateTests {
    /// A fixed moment, so validity periods are exact.
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// A new empty directory under the temporary directory.
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kvorum-certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Whether `leaf` chains to `root` under RFC 5280 at `time`.
    private func verifies(_ leaf: Certificate, root: Certificate, at time: Date) async -> Bool {
        var verifier = Verifier(rootCertificates: CertificateStore([root])) {
            RFC5280Policy(fixedExpiryValidationTime: time)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore()) {
        case .validCertificate: return true
        case .couldNotValidate: return false
        }
    }

    private func mode(_ file: URL) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int)
    }

    @Test func authorityIsASelfSignedCAForSigningCertificates() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = CertificateDirectory(directory: root)
        try directory.createAuthority(lifetime: 3650, overwrite: false, now: now)

        let ca = try CertificateDirectory.readCertificate(directory.caCertificateFile)
        #expect(ca.subject == ca.issuer)
        #expect(ca.subject.description.contains("CN=Kvorum CA"))
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(ca.extensions[oid: .X509ExtensionID.basicConstraints]?.critical == true)
        let usage = try #require(try ca.extensions.keyUsage)
        #expect(usage.keyCertSign && !usage.digitalSignature)
        #expect(ca.notValidBefore == now.addingTimeInterval(-3600))
        #expect(ca.notValidAfter == now.addingTimeInterval(3650 * 86400))
        #expect(ca.publicKey.description.contains("P256"))
        #expect(try mode(directory.caKeyFile) == 0o600)
        #expect(try mode(directory.caCertificateFile) == 0o644)
        let key = try P256.Signing.PrivateKey(
            pemRepresentation: String(contentsOf: directory.caKeyFile, encoding: .utf8))
        #expect(Certificate.PublicKey(key.publicKey) == ca.publicKey)
    }

    @Test func nodeCertificateNamesItsHostsAndVerifiesAgainstTheCA() async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = CertificateDirectory(directory: root)
        try directory.createAuthority(lifetime: 3650, overwrite: false, now: now)
        let hosts = try ["127.0.0.1", "localhost", "node1.example", "::1"].map(CertificateHost.init(parsing:))
        try directory.createNode(name: "node1", hosts: hosts, lifetime: 365, overwrite: false, now: now)

        let files = directory.files(.node)
        #expect(files.certificate.lastPathComponent == "node.crt" && files.key.lastPathComponent == "node.key")
        let node = try CertificateDirectory.readCertificate(files.certificate)
        let ca = try CertificateDirectory.readCertificate(directory.caCertificateFile)
        let commonNames = node.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }
        #expect(commonNames.compactMap { String($0.value) } == ["node1"])
        #expect(node.issuer == ca.subject)
        let names = try #require(try node.extensions.subjectAlternativeNames)
        #expect(
            Array(names) == [
                .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])), .dnsName("localhost"),
                .dnsName("node1.example"),
                .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
            ])
        let usages = try #require(try node.extensions.extendedKeyUsage)
        #expect(Array(usages) == [.serverAuth, .clientAuth])
        #expect(try node.extensions.basicConstraints == .notCertificateAuthority)
        let usage = try #require(try node.extensions.keyUsage)
        #expect(usage.digitalSignature && !usage.keyCertSign)
        #expect(node.notValidAfter == now.addingTimeInterval(365 * 86400))
        #expect(try mode(files.key) == 0o600)

        #expect(await verifies(node, root: ca, at: now))
        #expect(!(await verifies(node, root: ca, at: now.addingTimeInterval(366 * 86400))), "expired")

        let other = try CertificateAuthority.create(lifetime: 3650, now: now)
        #expect(!(await verifies(node, root: other.certificate, at: now)), "another CA must not vouch for it")
    }

    @Test func clientCertificateCarriesTheUserAndOnlyClientAuth() async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = CertificateDirectory(directory: root)
        try directory.createAuthority(lifetime: 3650, overwrite: false, now: now)
        try directory.createClient(name: "alice", lifetime: 30, overwrite: false, now: now)

        let files = directory.files(.client("alice"))
        #expect(files.certificate.lastPathComponent == "client.alice.crt")
        let client = try CertificateDirectory.readCertificate(files.certificate)
        let ca = try CertificateDirectory.readCertificate(directory.caCertificateFile)
        #expect(client.subject.description.contains("CN=alice"))
        #expect(Array(try #require(try client.extensions.extendedKeyUsage)) == [.clientAuth])
        #expect(try client.extensions.subjectAlternativeNames == nil)
        #expect(client.notValidAfter == now.addingTimeInterval(30 * 86400))
        #expect(try mode(files.key) == 0o600)
        #expect(await verifies(client, root: ca, at: now))
        let other = try CertificateAuthority.create(lifetime: 3650, now: now)
        #expect(!(await verifies(client, root: other.certificate, at: now)))
    }

    @Test func serialNumbersAreRandom() throws {
        let first = try CertificateAuthority.create(lifetime: 1, now: now)
        let second = try CertificateAuthority.create(lifetime: 1, now: now)
        #expect(first.certificate.serialNumber != second.certificate.serialNumber)
        #expect(first.certificate.serialNumber.bytes.count >= 16)
    }

    @Test func existingFilesAreKeptWithoutOverwrite() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = CertificateDirectory(directory: root)
        try directory.createAuthority(lifetime: 3650, overwrite: false, now: now)
        let original = try Data(contentsOf: directory.caCertificateFile)
        #expect(throws: CertificateError.fileExists(path: directory.caCertificateFile.path)) {
            try directory.createAuthority(lifetime: 3650, overwrite: false, now: now)
        }
        #expect(try Data(contentsOf: directory.caCertificateFile) == original)

        try directory.createClient(name: "bob", lifetime: 1, overwrite: false, now: now)
        let clientFile = directory.files(.client("bob")).certificate
        #expect(throws: CertificateError.fileExists(path: clientFile.path)) {
            try directory.createClient(name: "bob", lifetime: 1, overwrite: false, now: now)
        }

        try directory.createAuthority(lifetime: 3650, overwrite: true, now: now)
        #expect(try Data(contentsOf: directory.caCertificateFile) != original)
        #expect(try mode(directory.caKeyFile) == 0o600)
    }

    @Test func leavesNeedTheCA() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let elsewhere = root.appendingPathComponent("offline/ca.key")
        let directory = CertificateDirectory(directory: root.appendingPathComponent("certs"), caKey: elsewhere)
        #expect(throws: CertificateError.missingAuthority(path: directory.caCertificateFile.path)) {
            try directory.createClient(name: "carol", lifetime: 1, overwrite: false, now: now)
        }
        try directory.createAuthority(lifetime: 10, overwrite: false, now: now)
        #expect(FileManager.default.fileExists(atPath: elsewhere.path))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("certs/ca.key").path))
        try directory.createClient(name: "carol", lifetime: 1, overwrite: false, now: now)
        let withoutKey = CertificateDirectory(directory: root.appendingPathComponent("certs"))
        #expect(throws: CertificateError.missingAuthority(path: withoutKey.caKeyFile.path)) {
            try withoutKey.createNode(
                name: "n", hosts: [.dnsName("n")], lifetime: 1, overwrite: false, now: now)
        }
    }

    @Test func hostsAndNamesAreChecked() throws {
        #expect(try CertificateHost(parsing: "10.0.0.7") == .ipAddress([10, 0, 0, 7]))
        #expect(try CertificateHost(parsing: "db-1.example") == .dnsName("db-1.example"))
        #expect(try CertificateHost(parsing: "fe80::1").description == "IP:fe80::1")
        #expect(throws: CertificateError.invalidHost("a b")) { try CertificateHost(parsing: "a b") }
        #expect(throws: CertificateError.invalidHost("")) { try CertificateHost(parsing: "") }
        let directory = CertificateDirectory(directory: URL(fileURLWithPath: "/nonexistent"))
        #expect(throws: CertificateError.invalidName("../x")) {
            try directory.createClient(name: "../x", lifetime: 1, overwrite: false, now: now)
        }
    }
}
